"""Fixtures for the LLM tier's tests: the shared real warehouse, a recording runner, scripted replies.

No LLM provider is reachable from the test machines: every model call goes through litellm's own
``mock_response`` path (scripted per model with ``MockScript``), which returns the scripted text or
raises the scripted exception with litellm's usual usage and cost accounting. Everything else is
real: the warehouse (``tests/assistant/warehouse_builder.py``), the guard, DuckDB, the budget ledger.

Each test's RETAIL_HOME (the root conftest's ``retail_home``) gets a ``warehouse`` symlink to the
session's warehouse, so per-test state (budget file, proposals, vector indexes) stays per test while
the data is shared, and read only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from retail_insights.settings import get_settings
from tests.assistant.llm.llm_helpers import RecordingRunner


@pytest.fixture
def llm_home(built_warehouse: Path, retail_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """This test's RETAIL_HOME, reading the session's warehouse through a symlink."""
    retail_home.mkdir(parents=True, exist_ok=True)
    (retail_home / "warehouse").symlink_to(built_warehouse / "warehouse", target_is_directory=True)
    for name in ("RETAIL_LLM__MODEL", "RETAIL_LLM__MOCK_RESPONSE", "RETAIL_REDIS__URL"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield retail_home
    get_settings.cache_clear()


@pytest.fixture
def runner(llm_home: Path) -> RecordingRunner:
    """The shipped DuckDB backend (read-only catalog, timeout, row cap) over this test's home, recorded."""
    from warehouse.backends import get_backend

    return RecordingRunner(get_backend("duckdb", dataset="retail_sales"))
