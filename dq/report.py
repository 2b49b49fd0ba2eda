"""``retail-insights dq report``: what validation did to the last batches of a dataset."""

from __future__ import annotations

from typing import Any

from dq.results import read_batch_results
from retail_insights.errors import UsageError
from warehouse.spec import load_dataset


def summarize(dataset: str, *, last: int = 10) -> list[dict[str, Any]]:
    """The ``last`` batches of ``dataset``, newest first (by ingestion time, then batch id).

    Per batch: batch_id, time (ingestion, ISO-8601 UTC), input/clean/quarantined/warning rows,
    ``quarantined_by_code`` (quarantined rows per critical code; a row with two codes counts under
    both) and ``warnings_by_code`` (kept rows per warning code), and whether every rule passed.
    """
    load_dataset(dataset)  # an unknown name fails with the names that exist
    if last < 1:
        raise UsageError(f"last must be at least 1, got {last}.", hint="Fix: pass --last 1 or more.")
    results = sorted(read_batch_results(dataset), key=lambda r: (r["ingested_at"] or "", r["batch_id"]),
                     reverse=True)
    return [{
        "batch_id": r["batch_id"],
        "time": r["ingested_at"],
        "input_rows": r["input_rows"],
        "clean_rows": r["clean_rows"],
        "quarantined_rows": r["quarantined_rows"],
        "warning_rows": r["warning_rows"],
        "quarantined_by_code": r["quarantined_by_code"],
        "warnings_by_code": r["warnings_by_code"],
        "success": r["success"],
    } for r in results[:last]]


def format_summary(rows: list[dict[str, Any]]) -> str:
    """The summary as a plain-text table (one line per batch), for terminals and logs."""
    if not rows:
        return "no validated batches yet"
    header = f"{'batch':<28} {'time':<26} {'input':>10} {'quarantined':>11} {'warnings':>9}  by code"
    lines = [header]
    for r in rows:
        by_code = {**r["quarantined_by_code"], **r["warnings_by_code"]}
        codes = ", ".join(f"{c}={n:,}" for c, n in sorted(by_code.items())) or "-"
        lines.append(f"{r['batch_id']:<28} {r['time'] or '':<26} {r['input_rows']:>10,} "
                     f"{r['quarantined_rows']:>11,} {r['warning_rows']:>9,}  {codes}")
    return "\n".join(lines)
