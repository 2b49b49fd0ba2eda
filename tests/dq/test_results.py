"""dq.results: a batch's partitions merge into one JSON result, a GE Data Docs page and an index."""

from __future__ import annotations

from datetime import UTC, datetime
import json

import pandas as pd
import pytest

from dq.results import batch_result_path, data_docs_dir, merge_validations, write_batch_result
from retail_insights.errors import UsageError
from retail_insights.settings import get_settings
from spark_jobs.transform import PartitionResult, transform_partition

INGESTED_AT = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
ROW = {"order_id": "O-1", "order_ts": "2026-03-01T10:00:00Z", "updated_at": "", "status": "Shipped",
       "ship_date": "2026-03-03", "channel": "Online", "customer_id": "C-1", "segment": "Consumer",
       "product_id": "P-1", "product_name": "Lamp", "category": "Home", "sub_category": "Lighting",
       "city": "Portland", "state": "OR", "quantity": "3", "unit_price": "19.99", "discount": "0.15",
       "unit_cost": "8.50"}


def partition(rows: list[dict[str, str]], *, batch_id: str = "b-1", source_file: str = "a.csv",
              ingested_at: datetime = INGESTED_AT) -> PartitionResult:
    frame = pd.DataFrame([{**ROW, **r} for r in rows], dtype=str)
    frame["source_line"] = range(2, len(rows) + 2)
    return transform_partition(frame, dataset="retail_sales", batch_id=batch_id, source_file=source_file,
                               ingested_at=ingested_at)


@pytest.fixture(scope="module")
def two_partitions() -> list[PartitionResult]:
    return [partition([{}, {"state": "Atlantis"}, {"order_ts": "2027-01-01T00:00:00Z", "ship_date": ""}]),
            partition([{"unit_price": "x", "state": "?"}, {}], source_file="b.csv")]


def test_partitions_merge_into_one_batch_result_file(two_partitions):
    path = write_batch_result("retail_sales", "b-1", two_partitions)
    assert path == get_settings().dq_dir / "retail_sales" / "b-1.json"
    result = json.loads(path.read_text())
    assert (result["input_rows"], result["clean_rows"], result["quarantined_rows"], result["warning_rows"]) == (
        5, 3, 2, 1)
    assert result["quarantined_by_code"] == {"BAD_PRICE": 1, "BAD_STATE": 2}
    assert result["warnings_by_code"] == {"FUTURE_ORDER": 1}
    assert result["source_files"] == ["a.csv", "b.csv"] and result["partitions"] == 2
    state = next(r for r in result["rules"] if r["code"] == "BAD_STATE")
    assert (state["element_count"], state["unexpected_count"], state["success"]) == (5, 2, False)
    assert [(s["source_file"], s["source_line"]) for s in state["samples"]] == [("a.csv", 3), ("b.csv", 2)]
    assert result["success"] is False and result["statistics"]["unsuccessful_expectations"] == 3


def test_a_batch_gets_a_data_docs_page_and_a_line_in_the_index(two_partitions):
    write_batch_result("retail_sales", "b-1", two_partitions)
    page = (data_docs_dir() / "retail_sales" / "b-1.html").read_text()
    assert "Great Expectations" in page and "BAD_STATE: state is not one of the 50 states or DC" in page
    index = (data_docs_dir() / "index.html").read_text()
    assert 'href="retail_sales/b-1.html"' in index and "BAD_STATE 2" in index


def test_rewriting_a_batch_replaces_its_result(two_partitions):
    write_batch_result("retail_sales", "b-1", two_partitions)
    write_batch_result("retail_sales", "b-1", two_partitions[:1])
    assert json.loads(batch_result_path("retail_sales", "b-1").read_text())["input_rows"] == 3
    assert list((get_settings().dq_dir / "retail_sales").glob("*.json")) == [batch_result_path("retail_sales", "b-1")]


def test_index_links_stream_batch_pages_relative_to_itself():
    write_batch_result("retail_sales", "stream:g@t:1", [partition([{}], batch_id="stream:g@t:1")])
    assert 'href="retail_sales/stream%3Ag%40t%3A1.html"' in (data_docs_dir() / "index.html").read_text()
    assert (data_docs_dir() / "retail_sales" / "stream:g@t:1.html").exists()


def test_a_batch_without_partitions_has_zero_counts():
    merged = merge_validations("retail_sales", "empty", [])
    assert (merged["input_rows"], merged["success"], merged["ingested_at"]) == (0, True, None)


def test_a_partition_of_another_batch_is_refused(two_partitions):
    with pytest.raises(UsageError, match="batch 'b-1' was given for dataset 'retail_sales' batch 'b-2'"):
        write_batch_result("retail_sales", "b-2", two_partitions)


def test_a_batch_id_that_cannot_name_a_file_is_refused():
    with pytest.raises(UsageError, match=r"batch id '\.\./x' cannot name a file"):
        batch_result_path("retail_sales", "../x")
