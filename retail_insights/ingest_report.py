"""How an ingest summary reads for people: shared by ``retail-insights ingest`` and the demo."""

from __future__ import annotations

from typing import Any


def ingest_text(payload: dict[str, Any]) -> str:
    """An ingest summary for people: the row accounting, quarantine reasons, and where time went."""
    lines = [
        f"input {payload['input_rows']:,}  written {payload['written_rows']:,}  "
        f"quarantined {payload['quarantined_rows']:,}  duplicates {payload['duplicate_rows']:,}  "
        f"warnings {payload['warning_rows']:,}  delta version {payload['delta_version']}  "
        f"in {payload['duration_s']:.1f}s"]
    if payload.get("quarantined_by_code"):
        lines.append("quarantined by reason: " + ", ".join(
            f"{code} {count:,}" for code, count in sorted(payload["quarantined_by_code"].items())))
    if payload.get("phases_s"):
        lines.append("seconds by phase: " + ", ".join(
            f"{phase} {seconds:.1f}" for phase, seconds in payload["phases_s"].items()))
    return "\n".join(lines)
