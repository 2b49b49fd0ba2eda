"""Glue for ``retail-insights ask`` and ``retail-insights eval``: text to print and an exit code.

``ask`` prints the sentence, then the table, the SQL and how it was answered; with ``--json`` one
JSON object (``Answer.to_dict()``). Exit codes: 0 answered, 3 clarify (the question needs
rephrasing), 1 error or refused. ``eval`` exits 0 when every category is at least 95% correct.
"""

from __future__ import annotations

from datetime import date
import json
from pathlib import Path

from assistant.answer import Answer, jsonable

EXIT_CODES = {"answered": 0, "clarify": 3, "refused": 1, "error": 1}
PASS_RATE = 0.95
MAX_TABLE_ROWS = 20


def render_text(answer: Answer) -> str:
    lines = [answer.answer]
    if answer.rows:
        lines.append("")
        lines.append(" | ".join(answer.columns))
        for row in answer.rows[:MAX_TABLE_ROWS]:
            lines.append(" | ".join("" if v is None else str(v) for v in row))
        if len(answer.rows) > MAX_TABLE_ROWS:
            lines.append(f"... {len(answer.rows) - MAX_TABLE_ROWS} more rows (use --json for all)")
    if answer.suggestions and answer.status != "answered":
        lines += ["", "Try:"] + [f"  - {s}" for s in answer.suggestions]
    if answer.sql:
        lines += ["", f"SQL ({answer.source}): {answer.sql}"]
        if answer.params:
            lines.append(f"params: {[jsonable(p) for p in answer.params]}")
    lines.append(f"[{answer.status}; tier {answer.tier or '-'}; {answer.latency_ms:.0f} ms; "
                 f"{answer.bytes_read:,} bytes read; data version {answer.data_version}]")
    return "\n".join(lines)


def ask_command(question: str, *, dataset: str, as_of: date | None, as_json: bool) -> tuple[str, int]:
    """Answer one question; (text to print, exit code)."""
    from assistant.factory import build_assistant

    # One question per process: load the embedding model only if the rules cannot answer.
    answer = build_assistant(learn=False).answer(question, dataset=dataset, as_of=as_of)
    text = json.dumps(answer.to_dict(), sort_keys=True, default=str) if as_json else render_text(answer)
    return text, EXIT_CODES[answer.status]


def eval_command(*, dataset: str, golden: Path | None) -> tuple[str, int]:
    """Run a golden set (default: the shipped one for ``dataset``); (report, exit code)."""
    from assistant.eval import default_golden, format_report, run_golden
    from assistant.factory import build_assistant

    report = run_golden(build_assistant(semantic=False), golden or default_golden(dataset), dataset=dataset)
    ok = all(passed / total >= PASS_RATE for passed, total in report.by_category.values())
    return format_report(report), 0 if ok and report.total else 1
