"""Prompt templates, loaded by name from ``assistant/llm/prompts/<name>.j2``, and the chat messages.

Templates: ``system`` (role, rules and the output schema), ``generate_sql`` (the context and the
question), ``repair_sql`` (the error of the previous reply). They are rendered with Jinja2 in strict
mode (an undefined variable is an error, not an empty string).

User text and data values enter a prompt only through the ``data`` filter: JSON-encoded, with
``<``, ``>`` and ``&`` escaped, inside ``<user_question>``/``<data>``/``<example>`` fences. So a
question or a stored value cannot close its fence or pose as the prompt's own text, and the system
prompt tells the model that fenced text is data, never instructions.
"""

from __future__ import annotations

from functools import lru_cache
import json
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError
from assistant.intent import OPERATIONS
from assistant.llm import schema
from assistant.llm.context import PromptContext
from retail_insights.errors import did_you_mean

PROMPTS_DIR = Path(__file__).parent / "prompts"
Message = dict[str, str]


class UnknownPrompt(AssistantError, ValueError):
    """No template file with that name."""


def data(value: Any) -> str:
    """``value`` as JSON that cannot break out of a fence: ``<``, ``>``, ``&`` become \\u escapes."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def names() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in PROMPTS_DIR.glob("*.j2")))


@lru_cache(maxsize=1)
def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(PROMPTS_DIR), undefined=jinja2.StrictUndefined, autoescape=False,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False,
    )
    env.filters["data"] = data
    return env


def render(name: str, **values: Any) -> str:
    """The template ``name`` rendered with ``values``."""
    if name not in names():
        raise UnknownPrompt(f"no prompt template named {name!r} in {PROMPTS_DIR}.", hint=did_you_mean(name, names()))
    return _environment().get_template(f"{name}.j2").render(**values).strip() + "\n"


def sql_messages(context: PromptContext) -> list[Message]:
    """System and user messages asking for the SQL of ``context.question``."""
    system = render("system", dataset=context.dataset, operations=OPERATIONS,
                    schema=json.dumps(schema.json_schema(), separators=(",", ":"), sort_keys=True))
    user = render("generate_sql", **{f: getattr(context, f) for f in context.__dataclass_fields__})
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def repair_messages(context: PromptContext, *, previous: str | None, sql: str | None, error: str) -> list[Message]:
    """``sql_messages`` plus the previous reply and what was wrong with it."""
    messages = sql_messages(context)
    if previous:
        messages.append({"role": "assistant", "content": previous})
    messages.append({"role": "user", "content": render("repair_sql", error=error, sql=sql)})
    return messages
