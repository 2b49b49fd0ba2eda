"""What the model must return: one JSON object, pinned by a JSON schema and validated with pydantic.

``{"answerable": bool, "sql": str | null, "explanation": str, "intent": {...} | null}``

- ``sql``: one DuckDB SELECT over the listed tables (the guardrails decide whether it runs);
- ``explanation``: one or two sentences for the user, stating the dates used;
- ``intent``: the same question in the semantic model's terms when it fits one of the operations,
  else null. It is never executed as given; it only becomes a *proposed* template for the semantic
  tier (see ``assistant.llm.learning``).

Every field is required and objects are closed (``additionalProperties: false``), so the schema is
accepted by providers' strict structured-output modes; optional values are nullable instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assistant.intent import GRAINS, OPERATIONS

MAX_SQL_CHARS = 4000
MAX_EXPLANATION_CHARS = 400
_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.S | re.I)


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WindowOut(_Closed):
    start: str = Field(description="first day, YYYY-MM-DD (inclusive)")
    end: str = Field(description="last day, YYYY-MM-DD (inclusive)")
    column: Literal["order_date", "ship_date"]

    @field_validator("start", "end")
    @classmethod
    def _iso_date(cls, value: str) -> str:
        return date.fromisoformat(value).isoformat()


class FilterOut(_Closed):
    dimension: str
    values: list[str]
    negate: bool


class IntentOut(_Closed):
    metrics: list[str] = Field(min_length=1)
    operation: Literal[OPERATIONS]  # type: ignore[valid-type]
    dimensions: list[str]
    filters: list[FilterOut]
    time: WindowOut | None
    compare_time: WindowOut | None
    grain: Literal[GRAINS] | None  # type: ignore[valid-type]
    top_n: int | None = Field(ge=1, le=1000)
    order: Literal["desc", "asc"]


class SQLAnswer(_Closed):
    answerable: bool = Field(description="false when the data cannot answer the question")
    sql: str | None = Field(max_length=MAX_SQL_CHARS)
    explanation: str = Field(max_length=MAX_EXPLANATION_CHARS)
    intent: IntentOut | None

    @field_validator("explanation", mode="before")
    @classmethod
    def _shorten(cls, value: Any) -> Any:
        # A wordy but otherwise good answer is cut, not sent back for a (paid) repair round.
        if isinstance(value, str) and len(value) > MAX_EXPLANATION_CHARS:
            return value[: MAX_EXPLANATION_CHARS - 3].rstrip() + "..."
        return value


class BadModelOutput(ValueError):
    """The model's text is not the JSON object the schema pins; the message says what is wrong."""


def json_schema() -> dict[str, Any]:
    """The schema sent as ``response_format`` (OpenAI-style ``json_schema``, strict)."""
    return SQLAnswer.model_json_schema()


def response_format() -> dict[str, Any]:
    return SQL_OUTPUT.response_format()


@dataclass(frozen=True)
class Output:
    """What one kind of reply must be: its JSON schema (sent as ``response_format``) and its parser."""

    name: str
    schema: dict[str, Any]
    parse: Callable[[str | None], Any]      # raises BadModelOutput
    strict: bool = True                     # every field required (providers' strict mode); False: optional ones

    def response_format(self) -> dict[str, Any]:
        return {"type": "json_schema",
                "json_schema": {"name": self.name, "schema": self.schema, "strict": self.strict}}


def parse_json(text: str | None) -> Any:
    """The JSON value in ``text`` (a bare object, or one fenced in ```json ... ```)."""
    if not text or not text.strip():
        raise BadModelOutput("the model returned no text; expected one JSON object.")
    body = text.strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1)
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise BadModelOutput(f"the output is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
                             "return only the JSON object.") from None


def validated(parse: Callable[[str | None], Any]) -> Callable[[str | None], Any]:
    """``parse`` with pydantic's validation errors said as ``BadModelOutput`` (the first one, with its place)."""
    def run(text: str | None) -> Any:
        try:
            return parse(text)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(top level)"
            raise BadModelOutput(f"the JSON does not match the schema at {where}: {first['msg']}.") from None
    return run


def parse(text: str | None) -> SQLAnswer:
    """The validated SQL answer in ``text``."""
    return validated(lambda t: SQLAnswer.model_validate(parse_json(t)))(text)


SQL_OUTPUT = Output(name="sql_answer", schema=json_schema(), parse=parse)
