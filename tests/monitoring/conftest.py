"""Fixtures for the monitoring tests: promtool (installed through mk/services.mk when missing)."""

from __future__ import annotations

import pytest

from tests.services import ensure_promtool


@pytest.fixture(scope="session")
def promtool_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    return ensure_promtool(log_dir=tmp_path_factory.mktemp("promtool"))


# The real server and its warehouse, as the HTTP tests have them (``serve`` runs ``retail-insights serve``).
from tests.assistant.http.conftest import http_warehouse, serve, warehouse_home  # noqa: E402, F401
