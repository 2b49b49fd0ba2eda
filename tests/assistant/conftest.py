"""Fixtures for the assistant's tests: one small real warehouse per session (see warehouse_builder)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from retail_insights.settings import get_settings


@pytest.fixture(scope="session")
def catalog_runner(built_warehouse: Path) -> Iterator[object]:
    """One open catalog over the session's warehouse for every test that asks questions."""
    from assistant.execute import CatalogRunner

    runner = CatalogRunner(version_of=lambda: str(built_warehouse))
    yield runner
    runner.close()


@pytest.fixture
def make_assistant(warehouse: Path, catalog_runner: object):
    """Build an Assistant over the session's warehouse: ``make_assistant(cache=..., semantic=...)``."""
    from tests.assistant.warehouse_builder import local_assistant

    return lambda **stages: local_assistant(catalog_runner, **stages)


@pytest.fixture
def warehouse(built_warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """RETAIL_HOME pointing at the session's warehouse (read it, never write it)."""
    monkeypatch.setenv("RETAIL_HOME", str(built_warehouse))
    get_settings.cache_clear()
    yield built_warehouse
    get_settings.cache_clear()
