"""What the LLM tier returns (``LLMResult``), its pipeline ``Answer``, and the sentence about its rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from assistant.answer import Answer, jsonable
from assistant.llm.generator import Call, Difficulty

Status = Literal["answered", "clarify", "refused", "error"]
Path = Literal["intent", "sql"]
Reason = Literal["answered", "too_long", "injection", "write_request", "off_topic", "key_budget", "total_budget",
                 "unsafe_sql", "bytes_cap", "not_answerable", "repair_failed", "unavailable"]
MAX_LISTED = 5


@dataclass(frozen=True)
class LLMResult:
    status: Status
    reason: Reason
    message: str                                   # what the user reads
    answer_id: str
    sql: str | None = None                         # the SQL that ran (answered only)
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[Any, ...], ...] = ()
    explanation: str = ""
    model: str | None = None
    llm_calls: int = 0
    tokens: int = 0
    cost_usd: float = 0.0
    repaired: bool = False
    level: Difficulty | None = None
    bytes_read: int = 0
    rows_read: int = 0
    rejected_sql: str | None = None                # a query that was refused or failed, never shown as run
    understood: dict[str, Any] = field(default_factory=dict)
    suggestions: tuple[str, ...] = ()
    calls: tuple[Call, ...] = ()                   # every request made, in order (retries and fallbacks too)
    path: Path | None = None                       # which path answered: the model's intent, or its SQL
    intent: dict[str, Any] | None = None           # the intent that answered (path "intent")
    params: tuple[Any, ...] = ()                   # the compiled query's bound values (path "intent")
    source: str | None = None                      # the table or view the compiled query read
    chart: dict[str, Any] | None = None
    intent_note: str | None = None                 # why the intent path handed over to SQL

    def to_answer(self, *, question: str, dataset: str, as_of: str | None, data_version: int | None = None,
                  conversation_id: str | None = None) -> Answer:
        """The pipeline's ``Answer`` (tier ``llm``); the tier's details are in ``interpretation["llm"]``."""
        details = {"tokens": self.tokens, "model": self.model, "reason": self.reason, "repaired": self.repaired,
                   "difficulty": self.level, "rejected_sql": self.rejected_sql, "path": self.path,
                   "intent_declined": self.intent_note,
                   # Provider error texts stay in the logs: some quote part of the key they rejected.
                   "calls": [{"model": c.model, "outcome": c.outcome, "prompt_tokens": c.prompt_tokens,
                              "completion_tokens": c.completion_tokens, "cost_usd": c.cost_usd} for c in self.calls]}
        return Answer(
            status=self.status, answer=self.message, question=question, dataset=dataset, as_of=as_of,
            columns=self.columns, rows=tuple(tuple(jsonable(v) for v in r) for r in self.rows), sql=self.sql,
            tier="llm", interpretation={**(self.intent or {}), "explanation": self.explanation,
                                        "understood": self.understood, "llm": details},
            params=self.params, source=self.source, chart=self.chart,
            llm_calls=self.llm_calls, cost_usd=self.cost_usd, bytes_read=self.bytes_read, rows_read=self.rows_read,
            data_version=data_version, answer_id=self.answer_id, suggestions=self.suggestions,
            error=self.message if self.status == "error" else None, conversation_id=conversation_id,
        )


def summary(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """The result in one sentence: a single row in full, else the row count and the first rows."""
    if not rows:
        return "The query returned no rows."
    if len(rows) == 1:
        return "Result: " + ", ".join(f"{c} = {_cell(v)}" for c, v in zip(columns, rows[0])) + "."
    listed = "; ".join(", ".join(_cell(v) for v in row) for row in rows[:MAX_LISTED])
    more = f" (and {len(rows) - MAX_LISTED} more)" if len(rows) > MAX_LISTED else ""
    return f"Result ({len(rows)} rows of {', '.join(columns)}): {listed}{more}."


def _cell(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, (float, Decimal)):
        return f"{float(value):,.2f}"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)
