"""The `retail-insights sql` surface: one read-only query, or an interactive shell.

Both go through the default backend, so the guard (single read-only SELECT over known tables), the
timeout and the row cap apply exactly as they do for the assistant and the HTTP API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
import sys
from typing import Any

from retail_insights.errors import RetailError


@dataclass(frozen=True)
class SQLResult:
    columns: list[str]
    rows: list[list[Any]]
    bytes_read: int | None
    elapsed_ms: float

    def pretty(self, *, max_rows: int = 50) -> str:
        """A plain-text table, for people."""
        shown = [[_text(v) for v in row] for row in self.rows[:max_rows]]
        widths = [max([len(c)] + [len(r[i]) for r in shown]) for i, c in enumerate(self.columns)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(self.columns, widths)),
                 "  ".join("-" * w for w in widths)]
        lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in shown]
        more = f" (first {max_rows} shown)" if len(self.rows) > max_rows else ""
        lines.append(f"{len(self.rows)} rows{more}, {self.elapsed_ms:.0f} ms, "
                     f"{self.bytes_read if self.bytes_read is not None else '?'} bytes read")
        return "\n".join(lines)


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def _text(value: Any) -> str:
    return "NULL" if value is None else str(_json_value(value))


def run_query(sql: str, *, dataset: str) -> SQLResult:
    """Run one guarded read-only query on the default backend."""
    from warehouse.backends import get_backend

    result = get_backend(None, dataset=dataset).query(sql)
    return SQLResult(columns=list(result.columns), rows=[[_json_value(v) for v in row] for row in result.rows],
                     bytes_read=result.bytes_read, elapsed_ms=result.elapsed_ms)


def shell(*, dataset: str) -> None:
    """A minimal read-eval-print loop: statements end with ';', `.quit` or Ctrl-D leaves."""
    print(f"retail-insights SQL ({dataset}); read-only. End statements with ';'. .quit to leave.")
    buffer: list[str] = []
    while True:
        try:
            line = input("sql> " if not buffer else "...> ")
        except EOFError:
            print()
            return
        if not buffer and line.strip() in (".quit", ".exit", "\\q"):
            return
        buffer.append(line)
        if line.rstrip().endswith(";"):
            statement = "\n".join(buffer).rstrip().rstrip(";")
            buffer.clear()
            try:
                print(run_query(statement, dataset=dataset).pretty())
            except RetailError as exc:
                print(f"error: {exc}", file=sys.stderr)
