"""The LLM tier's first path: the model fills the rules tier's intent, the compiler writes the SQL.

``IntentPath.attempt(question, dataset=, as_of=, route=, generate=)`` asks the model for an intent
under the schema of ``assistant.llm.intent_output`` (every name an enum of the semantic model and
the data's values), turns it into an ``Intent``, compiles it with ``assistant.compiler.Compiler``
(values bound as parameters, the smallest view that answers) and runs it. Nothing the model wrote
reaches the warehouse as text: only names the schema allows, placed by the compiler.

The outcome is an ``IntentAttempt``: ``ran`` (with the intent, the compiled query and its result),
or why not: ``declined`` (the model said an intent cannot express the question), ``unusable`` (the
intent breaks an operation's needs, or does not compile or run), ``disagrees`` (the intent leaves out
something the rules read in the question, or adds what it does not say: ``assistant.llm.readback``),
``bad_output`` (not the JSON
asked for), ``unavailable`` (no model answered) or ``bytes_cap``. Every outcome but ``ran`` and
``unavailable`` hands the question to the SQL path; the note says why, for the interpretation.

A question with a cue of what no intent can express (``NEEDS_SQL``: medians, percentiles, "in both
years", running totals, first or repeat purchases, time between events...) skips the intent call
(``needs_sql``): small models rarely answer ``fits: false`` on their own, and a wrong intent would be
a confident wrong number. Like ``generator.COMPLEX_CUES``, this is about SQL shapes, not a dataset's words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
import re
from typing import TYPE_CHECKING, Any, Literal

from assistant.compiler import CompiledQuery, Compiler
from assistant.llm.intent_output import UnusableIntent, intent_output, to_intent
from assistant.llm.intent_prompt import intent_messages
from assistant.llm.readback import intent_disagreements
from assistant.llm.schema import Output
from retail_insights.errors import RetailError

if TYPE_CHECKING:
    from assistant.intent import Intent
    from assistant.llm.generator import Generation
    from assistant.llm.prompts import Message
    from assistant.router import Route

AttemptKind = Literal["ran", "declined", "needs_sql", "unusable", "disagrees", "bad_output", "unavailable",
                      "bytes_cap"]
NEEDS_SQL = re.compile(
    r"\b(?:median|percentiles?|quartiles?|quantiles?|p\d\d|both|each\s+of\s+the|every\s+(?:year|month|quarter)"
    r"|in\s+all\s+(?:\w+\s+)?(?:years|months|quarters)|running\s+total|cumulative|moving\s+average|rolling"
    r"|first\s+(?:order|purchase)|repeat|returning|came\s+back|again|retention|retained|churn(?:ed)?|never"
    r"|only\s+once|more\s+than\s+once|consecutive|streak|(?:longest|shortest|average)\s+(?:gap|time)\s+between"
    r"|days\s+between\s+(?:their|first|orders)|standard\s+deviation|variance|correlat\w*|distinct\s+\w+\s+per"
    r"|within\s+each|in\s+each\s+\w+,?\s+(?:the\s+)?(?:top|best|biggest|largest|highest|worst|lowest)"
    r"|(?:top|best|biggest|largest|highest)\s+\w+(?:\s+\w+)?\s+(?:in|of|for|per)\s+each)\b", re.I)
Generate = Callable[["list[Message]", Output], "Generation"]


@dataclass(frozen=True)
class IntentAttempt:
    kind: AttemptKind
    note: str = ""
    intent: Intent | None = None
    compiled: CompiledQuery | None = None
    result: Any = None


class IntentPath:
    """Intent first; one public method, ``attempt``."""

    def __init__(self, *, runner_for: Callable[[str], Any], compiler: Compiler | None = None,
                 max_bytes: int | None = None) -> None:
        self.runner_for, self.compiler, self.max_bytes = runner_for, compiler or Compiler(), max_bytes

    def attempt(self, question: str, *, dataset: str, as_of: date, route: Route | None,
                generate: Generate) -> IntentAttempt:
        cue = NEEDS_SQL.search(question)
        if cue is not None:
            return IntentAttempt("needs_sql", f"{cue.group(0)!r} needs more than an intent can say")
        found = {f.dimension: f.values for f in route.understood.filters} if route is not None else {}
        output = intent_output(dataset, found)
        generation = generate(intent_messages(question, dataset=dataset, as_of=as_of, route=route), output)
        if generation.status == "unavailable":
            return IntentAttempt("unavailable", generation.error or "no model answered")
        if generation.answer is None:
            return IntentAttempt("bad_output", generation.error or "the reply was not the JSON object asked for")
        reply = generation.answer
        if not reply.fits:
            return IntentAttempt("declined", reply.missing)
        try:
            intent = to_intent(reply, dataset=dataset)
        except (UnusableIntent, RetailError, ValueError, KeyError) as exc:
            return IntentAttempt("unusable", _first_line(exc))
        if route is not None and (problems := intent_disagreements(intent, route)):
            return IntentAttempt("disagrees", "; ".join(problems[:3]), intent=intent)
        try:
            compiled = self.compiler.compile(intent)
            result = self.runner_for(dataset).query(compiled.sql, list(compiled.params))
        except (UnusableIntent, RetailError, ValueError, KeyError) as exc:
            return IntentAttempt("unusable", _first_line(exc))
        read = int(getattr(result, "bytes_read", 0) or 0)
        if self.max_bytes is not None and read > self.max_bytes:
            return IntentAttempt("bytes_cap", f"the query read {read:,} bytes, more than the {self.max_bytes:,} "
                                              "allowed", intent=intent, compiled=compiled)
        return IntentAttempt("ran", intent=intent, compiled=compiled, result=result)


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:300]
