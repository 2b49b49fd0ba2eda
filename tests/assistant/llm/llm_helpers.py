"""Helpers shared by the LLM tier's tests: scripted replies, a recording runner, a stage, checksums."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
import hashlib
import json
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from assistant.intent import Filter
from assistant.llm.generator import Generator, MockScript
from assistant.llm.guardrails import allowed_tables
from assistant.llm.stage import LLMStage
from assistant.router import Route, Understood
from assistant.slots import Extraction

AS_OF = date(2024, 7, 1)
CHEAP, STRONG, FALLBACK = "gpt-4o-mini", "gpt-4o", "anthropic/claude-haiku-4-5"
DATASET = "retail_sales"
WRITES = tuple(getattr(exp, n) for n in ("Insert", "Update", "Delete", "Merge", "Create", "Drop", "Alter", "Command",
                                         "Copy", "Set", "Pragma", "Use", "Attach", "Detach", "Install", "Into")
               if hasattr(exp, n))


class RecordingRunner:
    """A real runner (the warehouse backend), noting every SQL text handed to it (a spy: it changes nothing)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.executed: list[str] = []

    def query(self, sql: str, params: Sequence[Any] = ()) -> Any:
        self.executed.append(sql)
        return self.inner.query(sql, params)


def reply(sql: str | None, explanation: str = "Revenue of the period.", *, intent: dict[str, Any] | None = None,
          answerable: bool = True) -> str:
    """A model reply as the schema pins it."""
    return json.dumps({"answerable": answerable, "sql": sql, "explanation": explanation, "intent": intent})


def checksum(folder: Path) -> str:
    """sha256 over every file's relative path and bytes under ``folder`` (Delta logs and Parquet files)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def make_stage(runner: Any, script: MockScript | dict[str, list[Any]], **options: Any) -> LLMStage:
    """The tier over ``runner`` with cheap/strong/fallback models answered by ``script``."""
    mock = script if isinstance(script, MockScript) else MockScript(script)
    generator = Generator(model=CHEAP, strong_model=STRONG, fallbacks=[FALLBACK], timeout_s=5.0, max_retries=1,
                          mock_response=mock, backoff_s=0.0)
    return LLMStage(generator=generator, runner_for=lambda dataset: runner, **options)


def pipeline(runner: RecordingRunner, stage: LLMStage | None = None, **stages: Any) -> Any:
    """The real ``Assistant`` over ``runner`` with the closed vocabulary (no value lookups) and ``stage``."""
    from assistant.factory import data_version_reader
    from assistant.pipeline import Assistant
    from retail_insights.settings import get_settings

    return Assistant(runner_for=lambda dataset: runner, data_version=data_version_reader(get_settings()), llm=stage,
                     **stages)


def is_read_only_select(sql: str) -> bool:
    """One SELECT (or set operation) with no write node, reading only the tier's allowed tables."""
    statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    if len(statements) != 1 or not isinstance(statements[0], (exp.Select, exp.SetOperation)):
        return False
    root = statements[0]
    if any(isinstance(node, WRITES) for node in root.walk()):
        return False
    ctes = {c.alias_or_name for c in root.find_all(exp.CTE)}
    for table in root.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier) or table.db not in ("", DATASET):
            return False
        if table.name not in allowed_tables(DATASET) and table.name not in ctes:
            return False
    return True


def route_with_stored_value(question: str, value: str) -> Route:
    """The router's verdict as if ``value`` were a stored city the question matched (data -> prompt)."""
    return Route(question=question, complete=False, intent=None, extraction=Extraction(question, (), ()),
                 understood=Understood(metrics=("revenue",), dimensions=("city",),
                                       filters=(Filter("city", (value,)),)),
                 missing=("time",), reason="")
