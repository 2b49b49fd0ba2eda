"""Glue for ``retail-insights ask``, ``chat`` and ``eval``: text to print and an exit code.

``ask`` prints the sentence, then the table, the SQL and how it was answered (with the conversation
id to pass as ``--conversation`` for a follow-up); with ``--json`` one JSON object
(``Answer.to_dict()``). Exit codes: 0 answered, 3 clarify (the question needs rephrasing), 1 error
or refused. ``chat`` asks in a loop within one conversation. ``eval`` exits 0 when every category
is at least 95% correct.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
import json
from pathlib import Path
from typing import Any

from assistant.answer import Answer, jsonable
from assistant.querylog import query_log
from retail_insights.errors import RetailError

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
    reading = _reading(answer.interpretation or {})
    if reading:
        lines.append(reading)
    lines.append(f"[{answer.status}; tier {answer.tier or '-'}; {answer.latency_ms:.0f} ms; "
                 f"{answer.bytes_read:,} bytes read; data version {answer.data_version}; "
                 f"conversation {answer.conversation_id}]")
    return "\n".join(lines)


def _reading(interpretation: dict[str, Any]) -> str:
    """How the question was read, beyond the SQL: follow-up, corrections, ignored words."""
    parts = []
    follow = interpretation.get("follow_up")
    if follow:
        parts.append(f"follow-up of {follow.get('of')!r}: changed {', '.join(follow.get('changed') or []) or '-'}, "
                     f"kept {', '.join(follow.get('carried_over') or []) or '-'}")
    if interpretation.get("corrected"):
        parts.append("read " + ", ".join(f"{k!r} as {v!r}" for k, v in interpretation["corrected"].items()))
    if interpretation.get("ignored"):
        parts.append("ignored " + ", ".join(repr(w) for w in interpretation["ignored"]))
    return ("(" + "; ".join(parts) + ")") if parts else ""


def ask_command(question: str, *, dataset: str, as_of: date | None, as_json: bool,
                conversation: str | None = None) -> tuple[str, int]:
    """Answer one question (a follow-up when ``conversation`` is given); (text to print, exit code)."""
    from assistant.factory import build_assistant

    # One question per process: load the embedding model only if the rules cannot answer.
    answer = build_assistant(learn=False).answer(question, dataset=dataset, as_of=as_of, conversation_id=conversation)
    query_log().append(answer.to_dict())
    text = json.dumps(answer.to_dict(), sort_keys=True, default=str) if as_json else render_text(answer)
    return text, EXIT_CODES[answer.status]


CHAT_HELP = ("Ask a question; follow-ups ('and for 2022?', 'what about units?') build on the last answer. "
             "/new starts over, /dataset NAME switches, Ctrl-D or /quit exits.")


def chat_loop(*, dataset: str, as_of: date | None, read: Callable[[str], str] = input,
              write: Callable[[str], None] = print) -> int:
    """Ask in a loop within one conversation until end of input; returns the exit code (0)."""
    from assistant.factory import build_assistant
    from warehouse.spec import load_dataset

    assistant = build_assistant()
    log = query_log()
    conversation: str | None = None
    write(CHAT_HELP)
    while True:
        try:
            line = read(f"{dataset}> ").strip()
        except (EOFError, KeyboardInterrupt):
            write("")
            return 0
        if not line:
            continue
        if line in ("/quit", "/exit"):
            return 0
        if line == "/new":
            conversation = None
            write("(new conversation)")
            continue
        if line.startswith("/dataset"):
            name = line.split(maxsplit=1)[1] if " " in line else ""
            try:
                load_dataset(name)
            except RetailError as exc:
                write(f"error: {exc}")
                continue
            dataset, conversation = name, None
            continue
        answer = assistant.answer(line, dataset=dataset, as_of=as_of, conversation_id=conversation)
        conversation = answer.conversation_id
        log.append(answer.to_dict())
        write(render_text(answer))


def eval_command(*, dataset: str, golden: Path | None) -> tuple[str, int]:
    """Run a golden set (default: the shipped one for ``dataset``); (report, exit code)."""
    from assistant.eval import default_golden, format_report, run_golden
    from assistant.factory import build_assistant

    report = run_golden(build_assistant(semantic=False), golden or default_golden(dataset), dataset=dataset)
    ok = all(passed / total >= PASS_RATE for passed, total in report.by_category.values())
    return format_report(report), 0 if ok and report.total else 1
