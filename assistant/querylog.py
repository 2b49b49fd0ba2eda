"""The query log: one JSON line per answered question, for priming, the cost report and audits.

Each line holds when, which dataset, the question, how it was answered (status, tier), how long it
took, what it read and what it cost (bytes, LLM calls, tokens, dollars) and the data version. The
file lives under ``settings.state_dir``; every process appends whole lines (``O_APPEND``, one write
per line), so the HTTP workers, the task worker and the CLI share it. At ``max_bytes`` the file is
renamed to ``.1`` (the one before that is dropped), so it never grows without bound.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
import json
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
FILE_NAME = "queries.jsonl"
Asked = tuple[str, str, date | None]      # dataset, question, the day it was pinned to (None: today)
MAX_BYTES = 64 * 1024 * 1024


def entry_of(answer: dict[str, Any], *, at: datetime | None = None, as_of: date | None = None) -> dict[str, Any]:
    """The line kept for one answer (an ``Answer.to_dict()``); ``as_of`` when the caller pinned the day
    (priming then asks as of that day: "last month" of a dashboard pinned to a date is that date's)."""
    llm = ((answer.get("interpretation") or {}).get("llm") or {}) if isinstance(answer.get("interpretation"), dict) else {}
    return {
        "at": (at or datetime.now(UTC)).isoformat(timespec="milliseconds"),
        "dataset": answer.get("dataset"), "question": answer.get("question"), "status": answer.get("status"),
        "tier": answer.get("tier"), "latency_ms": answer.get("latency_ms", 0.0),
        "bytes_read": answer.get("bytes_read", 0), "llm_calls": answer.get("llm_calls", 0),
        "tokens": llm.get("tokens", 0) or 0, "cost_usd": answer.get("cost_usd", 0.0),
        "data_version": answer.get("data_version"), "source": answer.get("source"),
        "answer_id": answer.get("answer_id"),
        **({"as_of": as_of.isoformat()} if as_of is not None else {}),
    }


class QueryLog:
    def __init__(self, path: Path, *, max_bytes: int = MAX_BYTES) -> None:
        self.path, self.max_bytes = path, max_bytes

    def append(self, answer: dict[str, Any], *, as_of: date | None = None) -> None:
        """Add one answer's line; a full disk or a read-only folder costs a warning, never the answer."""
        line = (json.dumps(entry_of(answer, as_of=as_of), separators=(",", ":"), default=str) + "\n").encode()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.exists() and self.path.stat().st_size + len(line) > self.max_bytes:
                os.replace(self.path, self.path.with_name(self.path.name + ".1"))
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
        except OSError as exc:
            log.warning("could not append to the query log %s: %s", self.path, exc)

    def entries(self) -> Iterator[dict[str, Any]]:
        """Every line, oldest first (the rotated file, then the current one); broken lines are skipped."""
        for path in (self.path.with_name(self.path.name + ".1"), self.path):
            if not path.exists():
                continue
            with path.open(encoding="utf-8") as lines:
                for line in lines:
                    try:
                        yield json.loads(line)
                    except json.JSONDecodeError:
                        continue

    def top_questions(self, n: int, *, last: int = 10_000) -> list[Asked]:
        """The ``n`` most asked questions among the last ``last`` answered lines: (dataset, question,
        the day the caller pinned or None for "today")."""
        recent: list[Asked] = []
        for entry in self.entries():
            if entry.get("status") == "answered" and entry.get("dataset") and entry.get("question"):
                recent.append((str(entry["dataset"]), str(entry["question"]), _day(entry.get("as_of"))))
        return [pair for pair, _ in Counter(recent[-last:]).most_common(n)]


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def query_log(settings: Any = None) -> QueryLog:
    """The query log of ``settings`` (default: ``get_settings()``)."""
    from retail_insights.settings import get_settings

    return QueryLog((settings or get_settings()).state_dir / FILE_NAME)
