"""The staged-file contract: one partition per file, read from the footer."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from retail_insights.errors import DataError
from warehouse.delta import commit_staged, table_exists

from tests.warehouse.delta.delta_support import KEY, SCHEMA, orders, row


def test_a_staged_file_spanning_two_months_is_rejected(tmp_path):
    staged = tmp_path / "mixed.parquet"
    pq.write_table(orders(row("o1", month=1), row("o2", month=2)), staged)

    with pytest.raises(DataError, match=r"must hold exactly one integer 'month', found 1\.\.2"):
        commit_staged(
            tmp_path / "sales", [staged], schema=SCHEMA, key=KEY, app_id="b", app_version=1
        )
    assert staged.exists() and not table_exists(tmp_path / "sales")
