"""dq.report: the last batches of a dataset, newest first, with counts by code."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from dq.report import format_summary, summarize
from dq.results import write_batch_result
from retail_insights.errors import UsageError
from spark_jobs.transform import transform_partition

ROW = {"order_id": "O-1", "order_ts": "2026-03-01T10:00:00Z", "status": "Shipped", "state": "OR",
       "quantity": "3", "unit_price": "19.99", "discount": "", "unit_cost": ""}


def write_batch(batch_id: str, day: int, rows: list[dict[str, str]]) -> None:
    frame = pd.DataFrame([{**ROW, **r} for r in rows], dtype=str)
    frame["source_line"] = range(2, len(rows) + 2)
    result = transform_partition(frame, dataset="retail_sales", batch_id=batch_id, source_file="f.csv",
                                 ingested_at=datetime(2026, 3, day, tzinfo=UTC))
    write_batch_result("retail_sales", batch_id, [result])


def test_summary_lists_the_last_batches_newest_first_with_counts_by_code():
    write_batch("monday", 2, [{}, {"state": "?"}])
    write_batch("wednesday", 4, [{}, {"order_ts": "2027-01-01T00:00:00Z"}, {"quantity": "0", "state": "?"}])
    write_batch("tuesday", 3, [{}])
    rows = summarize("retail_sales", last=2)
    assert [r["batch_id"] for r in rows] == ["wednesday", "tuesday"]
    assert rows[0] == {"batch_id": "wednesday", "time": "2026-03-04T00:00:00+00:00", "input_rows": 3,
                       "clean_rows": 2, "quarantined_rows": 1, "warning_rows": 1, "success": False,
                       "quarantined_by_code": {"BAD_QUANTITY": 1, "BAD_STATE": 1},
                       "warnings_by_code": {"FUTURE_ORDER": 1}}
    assert len(summarize("retail_sales")) == 3


def test_summary_of_a_dataset_without_batches_is_empty():
    assert summarize("superstore") == []
    assert format_summary([]) == "no validated batches yet"


def test_formatted_summary_has_one_line_per_batch():
    write_batch("monday", 2, [{}, {"state": "?"}])
    text = format_summary(summarize("retail_sales"))
    assert text.splitlines()[1].startswith("monday") and "BAD_STATE=1" in text


def test_unknown_dataset_names_the_known_ones():
    with pytest.raises(UsageError, match="unknown dataset 'retail'"):
        summarize("retail")


def test_last_must_be_positive():
    with pytest.raises(UsageError, match="last must be at least 1, got 0"):
        summarize("retail_sales", last=0)
