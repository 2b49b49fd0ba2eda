"""Helpers shared by the LLM tier's tests: scripted replies, a recording runner, a stage, checksums."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
import hashlib
import json
from pathlib import Path
from typing import Any

from assistant.llm.generator import Generator, MockScript
from assistant.llm.stage import LLMStage

AS_OF = date(2024, 7, 1)
CHEAP, STRONG, FALLBACK = "gpt-4o-mini", "gpt-4o", "anthropic/claude-haiku-4-5"


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
