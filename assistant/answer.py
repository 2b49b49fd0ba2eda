"""The answer object every tier returns, and how its values become JSON.

``rows`` keep the unrounded values the warehouse returned (as JSON numbers: Decimal -> float, dates
-> ISO strings); the sentence (``assistant.sentence``) rounds money to cents for people.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal


Status = Literal["answered", "clarify", "refused", "error"]
Tier = Literal["cache_l1", "cache_l2", "semantic", "metadata", "llm"]



@dataclass(frozen=True)
class Answer:
    status: Status
    answer: str
    question: str = ""
    dataset: str = ""
    as_of: str | None = None
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[Any, ...], ...] = ()
    sql: str | None = None
    params: tuple[Any, ...] = ()
    tier: Tier | None = None
    interpretation: dict[str, Any] | None = None
    source: str | None = None
    latency_ms: float = 0.0
    llm_calls: int = 0
    cost_usd: float = 0.0
    bytes_read: int = 0
    rows_read: int = 0
    data_version: int | None = None
    chart: dict[str, Any] | None = None
    answer_id: str = ""
    suggestions: tuple[str, ...] = ()
    error: str | None = None
    neighbour: str | None = None        # the remembered question a semantic answer re-used
    conversation_id: str | None = None  # send it with the next question to ask a follow-up

    def to_dict(self) -> dict[str, Any]:
        # Not dataclasses.asdict: it deep-copies every leaf, which cost ~5 ms per cached HTTP answer.
        data = {name: _copied(getattr(self, name)) for name in self.__dataclass_fields__}
        data["columns"] = list(self.columns)
        data["rows"] = [list(r) for r in self.rows]
        data["params"] = [jsonable(p) for p in self.params]
        data["suggestions"] = list(self.suggestions)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["columns"] = tuple(known.get("columns", ()))
        known["rows"] = tuple(tuple(r) for r in known.get("rows", ()))
        known["params"] = tuple(known.get("params", ()))
        known["suggestions"] = tuple(known.get("suggestions", ()))
        return cls(**known)

    def with_(self, **changes: Any) -> Answer:
        return replace(self, **changes)


def _copied(value: Any) -> Any:
    """``value`` with its dicts, lists, tuples and sets copied (as ``asdict`` would); other leaves shared.

    Leaves of an answer are str, numbers, None, bool, dates and Decimals: immutable, so sharing them
    is safe, while a caller that edits the returned containers cannot reach into the answer.
    """
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return type(value)(_copied(v) for v in value)
    return value


def jsonable(value: Any) -> Any:
    """A warehouse value as JSON: Decimal -> float (unrounded), dates and timestamps -> ISO text."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value
