"""What one commit is about: its options and schema are checked before anything is written."""

from __future__ import annotations

import pyarrow as pa
import pytest

from retail_insights.errors import DataError, UsageError
from warehouse.delta import commit_table

from tests.warehouse.delta.delta_support import KEY, SCHEMA, commit, orders, row


def test_bad_options_name_the_value_and_the_fix(tmp_path):
    with pytest.raises(UsageError, match=r"Unknown commit mode 'merg'\. Did you mean 'merge'\?"):
        commit(tmp_path / "sales", row("o1"), version=1, mode="merg")
    with pytest.raises(
        UsageError, match=r"Column 'order' is not in the table schema\. Did you mean 'order_id'\?"
    ):
        commit_table(
            tmp_path / "sales", orders(row("o1")), key=("order",), app_id="b", app_version=1
        )


def test_a_batch_with_another_schema_is_refused_by_an_existing_table(tmp_path):
    path = tmp_path / "sales"
    commit(path, row("o1"), version=1)
    wider = SCHEMA.append(pa.field("channel", pa.string()))

    with pytest.raises(DataError, match=r"migrate the table first"):
        commit_table(
            path,
            orders(row("o2") | {"channel": "Online"}, schema=wider),
            key=KEY,
            app_id="b",
            app_version=2,
        )
