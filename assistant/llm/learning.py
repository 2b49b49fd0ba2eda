"""The learning loop: LLM answers become *proposed* templates, promoted only by a person and a re-run.

``propose`` (called by the LLM tier after each answered question) stores the answer's SQL and, when
the model restated the question as an intent that fits the semantic model, that intent as a
*proposed* template for the semantic tier (``SemanticMatcher.remember(..., verified=False)``).
Proposed templates are stored but never answer anything.

``on_feedback(answer_id, helpful)`` (the HTTP feedback hook) promotes a proposal only when both
hold, never automatically:
1. the vote is positive;
2. a re-execution check passes: the SQL is guarded and run again and returns the same columns with
   no error; the template (if any) compiles, runs, and its result holds the same numbers.
Then the template is remembered as verified (it now answers paraphrases with no LLM call) and the
question/SQL pair becomes a verified prompt example (``ExampleStore``). A negative vote drops the
proposal. Proposals live as one JSON file per answer under ``settings.state_dir / "llm" /
"proposals"``, so the API process that receives the vote need not be the one that answered.

A template is proposed only when every filter value, date window, grain and top-N count in it is
one of the question's slots (as the router extracted them): those are what re-binding replaces.
A value the model inferred from words no slot covers ("the Golden State" -> CA) would otherwise
stay fixed in the template and answer a paraphrase about another state wrongly; such answers keep
only their SQL example. Metrics, dimensions and the operation may be the model's own reading.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from decimal import Decimal
import json
import logging
import os
from pathlib import Path
import re
import tempfile
from typing import TYPE_CHECKING, Any, Literal

from assistant.intent import Filter, Intent, TimeWindow
from assistant.measures import known as known_metric
from assistant.llm import guardrails
from assistant.llm.schema import IntentOut
from assistant.llm.usage import USAGE
from assistant.slots import Slot
from retail_insights.errors import RetailError
from warehouse.spec import load_dataset

if TYPE_CHECKING:
    from assistant.compiler import Compiler
    from assistant.llm.examples import ExampleStore
    from retail_insights.settings import Settings
    from warehouse.guard import TableCatalog

log = logging.getLogger(__name__)

Outcome = Literal["promoted", "declined", "unknown_answer", "reexecution_failed"]
_ANSWER_ID = re.compile(r"^[0-9a-f]{8,64}$")


@dataclass(frozen=True)
class Promotion:
    outcome: Outcome
    detail: str
    template: bool = False      # the intent template is now verified (answers paraphrases)
    example: bool = False       # the question/SQL pair is now a verified prompt example


def template_for(proposed: IntentOut | None, slots: Sequence[Slot], *, dataset: str) -> Intent | None:
    """The model's intent as a re-bindable template, or None when it does not fit (see module docstring)."""
    if proposed is None:
        return None
    model = load_dataset(dataset).semantic
    metrics_ok = all(known_metric(dataset, m) for m in proposed.metrics)
    dims_ok = all(d in model.dimensions or (proposed.operation == "distribution" and d in model.language.buckets)
                  for d in proposed.dimensions)
    if not (metrics_ok and dims_ok and all(f.dimension in model.dimensions for f in proposed.filters)):
        return None
    intent = Intent(
        dataset=dataset, metrics=tuple(proposed.metrics), operation=proposed.operation,
        dimensions=tuple(proposed.dimensions),
        filters=tuple(Filter(f.dimension, tuple(f.values), f.negate) for f in proposed.filters),
        time=_window(proposed.time), compare_time=_window(proposed.compare_time), grain=proposed.grain,
        top_n=proposed.top_n, order=proposed.order)
    return bound_template(intent, slots)


def bound_template(intent: Intent, slots: Sequence[Slot]) -> Intent | None:
    """``intent`` re-bindable to the question's slots and compilable, else None (see the module docstring)."""
    bound = _bind_to_slots(intent, slots)
    if bound is None:
        return None
    from assistant.compiler import Compiler

    try:
        Compiler().compile(bound)   # a template the compiler cannot build would fail every paraphrase
    except (RetailError, ValueError, KeyError):
        return None
    return bound


def _window(raw: Any) -> TimeWindow | None:
    if raw is None:
        return None
    return TimeWindow(date.fromisoformat(raw.start), date.fromisoformat(raw.end), "", raw.column)


def _bind_to_slots(intent: Intent, slots: Sequence[Slot]) -> Intent | None:
    """``intent`` with its windows replaced by the slots' own (labels included), if every value is a slot's."""
    windows = [s.value for s in slots if isinstance(s.value, TimeWindow)]
    for attr in ("time", "compare_time"):
        current = getattr(intent, attr)
        if current is None:
            continue
        same = [w for w in windows if (w.start, w.end, w.column) == (current.start, current.end, current.column)]
        if not same:
            return None
        intent = replace(intent, **{attr: same[0]})
    grains = {s.value for s in slots if s.kind == "time" and isinstance(s.value, str)}
    numbers = {s.value for s in slots if s.kind == "number"}
    if (intent.grain is not None and intent.grain not in grains) or (intent.top_n is not None
                                                                      and intent.top_n not in numbers):
        return None
    slot_values: dict[tuple[str, bool], set[str]] = {}
    for s in slots:
        if isinstance(s.value, Filter):
            slot_values.setdefault((s.value.dimension, s.value.negate), set()).update(s.value.values)
    if any(set(f.values) != slot_values.get((f.dimension, f.negate)) for f in intent.filters):
        return None
    return intent


class TemplateLearner:
    """Stores proposals and promotes them on positive feedback plus a clean re-execution."""

    def __init__(self, *, store_dir: Path, runner_for: Callable[[str], Any], semantic: Any = None,
                 examples: ExampleStore | None = None, compiler: Compiler | None = None,
                 tables_for: Callable[[str], TableCatalog] = guardrails.table_catalog, max_rows: int = 1000) -> None:
        self.store_dir = Path(store_dir)
        self._runner_for, self._semantic, self._examples = runner_for, semantic, examples
        self._compiler, self._tables_for, self.max_rows = compiler, tables_for, max_rows

    @classmethod
    def from_settings(cls, settings: Settings, **stages: Any) -> TemplateLearner:
        return cls(store_dir=settings.state_dir / "llm" / "proposals", **stages)

    def propose(self, *, answer_id: str, question: str, dataset: str, sql: str | None, columns: Sequence[str],
                slots: Sequence[Slot], template: Intent | None) -> None:
        """Remember an answered LLM question as a proposal (best effort: never fails the answer).

        ``sql`` is the model's SQL (the SQL path); an answer of the intent path has none, only its template.
        """
        if not _ANSWER_ID.match(answer_id):
            return
        record = {"answer_id": answer_id, "question": question, "dataset": dataset, "sql": sql,
                  "columns": list(columns), "slots": [_slot_json(s) for s in slots],
                  "template": template.to_dict() if template is not None else None,
                  "proposed_at": datetime.now().astimezone().isoformat(timespec="seconds")}
        try:
            self.store_dir.mkdir(parents=True, exist_ok=True)
            fd, scratch = tempfile.mkstemp(prefix=".proposal-", dir=self.store_dir)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(record, handle, sort_keys=True)
            os.replace(scratch, self._path(answer_id))
            if template is not None and self._semantic is not None:
                self._semantic.remember(question, tuple(slots), template, dataset=dataset, verified=False)
            USAGE.add("proposals")
        except Exception:  # noqa: BLE001 - learning is a side effect of an answer already given
            log.warning("could not store the LLM proposal for answer %s", answer_id, exc_info=True)

    def on_feedback(self, answer_id: str, helpful: bool) -> Promotion:
        """Promote the proposal of ``answer_id`` after a positive vote and a clean re-run; see the docstring."""
        record = self._load(answer_id)
        if record is None:
            return Promotion("unknown_answer", f"no pending LLM proposal for answer {answer_id!r}.")
        if not helpful:
            self._path(answer_id).unlink(missing_ok=True)
            USAGE.add("proposals_declined")
            return Promotion("declined", "negative feedback: the proposal was dropped.")
        if record.get("sql") is None:
            return self._promote_intent(answer_id, record)
        dataset = record["dataset"]
        try:
            guarded = guardrails.check(record["sql"], self._tables_for(dataset), max_rows=self.max_rows)
            result = self._runner_for(dataset).query(guarded.sql, [])
        except RetailError as exc:
            return Promotion("reexecution_failed", f"re-running the SQL failed: {exc}")
        if list(result.columns) != record["columns"]:
            return Promotion("reexecution_failed", f"re-running the SQL returned columns {list(result.columns)}, "
                                                   f"not {record['columns']}.")
        template, why = self._checked_template(record, result.rows)
        slots = tuple(_slot_from_json(s) for s in record["slots"])
        if template is not None and self._semantic is not None:
            self._semantic.remember(record["question"], slots, template, dataset=dataset, verified=True)
        example = False
        if self._examples is not None:
            try:
                self._examples.add(record["question"], guarded.sql, dataset=dataset, slots=slots)
                example = True
            except Exception:  # noqa: BLE001 - the template may still be promoted
                log.warning("could not store the verified SQL example", exc_info=True)
        self._path(answer_id).unlink(missing_ok=True)
        USAGE.add("promotions")
        return Promotion("promoted", why, template=template is not None and self._semantic is not None,
                         example=example)

    def _promote_intent(self, answer_id: str, record: dict[str, Any]) -> Promotion:
        """An intent-path answer: its template compiles, runs and returns the columns it answered with."""
        intent = Intent.from_dict(record["template"])
        try:
            from assistant.compiler import Compiler

            compiled = (self._compiler or Compiler()).compile(intent)
            result = self._runner_for(intent.dataset).query(compiled.sql, list(compiled.params))
        except RetailError as exc:
            return Promotion("reexecution_failed", f"re-running the template failed: {exc}")
        if list(result.columns) != record["columns"]:
            return Promotion("reexecution_failed", f"re-running the template returned columns "
                                                   f"{list(result.columns)}, not {record['columns']}.")
        slots = tuple(_slot_from_json(s) for s in record["slots"])
        if self._semantic is not None:
            self._semantic.remember(record["question"], slots, intent, dataset=intent.dataset, verified=True)
        self._path(answer_id).unlink(missing_ok=True)
        USAGE.add("promotions")
        return Promotion("promoted", "promoted the intent template (the intent path answered).",
                         template=self._semantic is not None)

    def _checked_template(self, record: dict[str, Any], rows: Sequence[Sequence[Any]]) -> tuple[Intent | None, str]:
        if record.get("template") is None:
            return None, "promoted the SQL example (the answer had no re-bindable template)."
        intent = Intent.from_dict(record["template"])   # windows keep the slots' labels (see _bind_to_slots)
        try:
            from assistant.compiler import Compiler

            compiled = (self._compiler or Compiler()).compile(intent)
            check = self._runner_for(intent.dataset).query(compiled.sql, list(compiled.params))
        except RetailError as exc:
            return None, f"promoted the SQL example; the template failed to run ({exc})."
        if not _same_numbers(rows, check.rows):
            return None, "promoted the SQL example; the template's numbers differ from the SQL's, so it was not."
        return intent, "promoted the template and the SQL example."

    def _path(self, answer_id: str) -> Path:
        return self.store_dir / f"{answer_id}.json"

    def _load(self, answer_id: str) -> dict[str, Any] | None:
        if not _ANSWER_ID.match(answer_id or ""):
            return None
        try:
            return json.loads(self._path(answer_id).read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return None


def _numbers(rows: Sequence[Sequence[Any]]) -> Counter[float]:
    return Counter(round(float(v), 2) for row in rows for v in row
                   if isinstance(v, (int, float, Decimal)) and not isinstance(v, bool))


def _same_numbers(sql_rows: Sequence[Sequence[Any]], template_rows: Sequence[Sequence[Any]]) -> bool:
    """The template's rows hold every number the SQL returned (it may add columns such as a share)."""
    if len(sql_rows) != len(template_rows):
        return False
    return not (_numbers(sql_rows) - _numbers(template_rows))


def _slot_json(slot: Slot) -> dict[str, Any]:
    value = slot.value
    data: dict[str, Any] = {"kind": slot.kind, "text": slot.text, "start": slot.start, "end": slot.end}
    if isinstance(value, Filter):
        data["filter"] = {"dimension": value.dimension, "values": list(value.values), "negate": value.negate}
    elif isinstance(value, TimeWindow):
        data["time"] = {**asdict(value), "start": value.start.isoformat(), "end": value.end.isoformat()}
    else:
        data["plain"] = value
    return data


def _slot_from_json(data: dict[str, Any]) -> Slot:
    if "filter" in data:
        raw = data["filter"]
        value: object = Filter(raw["dimension"], tuple(raw["values"]), bool(raw["negate"]))
    elif "time" in data:
        raw = data["time"]
        value = TimeWindow(date.fromisoformat(raw["start"]), date.fromisoformat(raw["end"]), raw["label"],
                           raw["column"])
    else:
        value = data["plain"]
    return Slot(kind=data["kind"], text=data["text"], start=data["start"], end=data["end"], value=value)
