"""Reading a Delta table: a missing table or version says what exists."""

from __future__ import annotations

import pytest

from retail_insights.errors import UsageError
from warehouse.delta import TableMissing, dataset

from tests.warehouse.delta.delta_support import commit, row


def test_reading_a_missing_table_or_version_says_what_exists(tmp_path):
    with pytest.raises(TableMissing, match=r"No Delta table at .*Commit a batch to it first"):
        dataset(tmp_path / "nowhere")
    commit(tmp_path / "sales", row("o1"), version=1)
    with pytest.raises(UsageError, match=r"has no version 5; it has versions 0 to 0"):
        dataset(tmp_path / "sales", version=5)
