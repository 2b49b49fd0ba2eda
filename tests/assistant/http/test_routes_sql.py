"""POST /v1/sql: read-only queries under the warehouse guardrails; anything else is a 400 saying why."""

from __future__ import annotations

import pytest

from tests.assistant.http.conftest import SUPERSTORE_2016_SALES


def test_a_select_returns_columns_rows_and_read_statistics(client) -> None:
    response = client.post("/v1/sql", json={"dataset": "superstore", "sql": (
        "SELECT SUM(sales) AS sales, COUNT(*) AS lines FROM superstore "
        "WHERE order_date >= DATE '2016-01-01' AND order_date < DATE '2017-01-01'")})
    assert response.status_code == 200
    body = response.json()
    assert body["columns"] == ["sales", "lines"]
    assert body["rows"][0][0] == pytest.approx(SUPERSTORE_2016_SALES)
    assert body["row_count"] == 1
    assert body["bytes_read"] > 0
    assert "LIMIT" in body["sql"]


def test_rows_are_capped_by_the_guard(client) -> None:
    body = client.post("/v1/sql", json={"dataset": "superstore",
                                        "sql": "SELECT row_id FROM superstore LIMIT 100000000"}).json()
    assert body["row_count"] == 9994
    assert body["sql"].endswith("LIMIT 10000")


def test_values_json_cannot_carry_become_null_or_text(client) -> None:
    body = client.post("/v1/sql", json={"sql": "SELECT CAST('nan' AS DOUBLE) AS n, DATE '2024-03-01' AS d, "
                                               "CAST(2.50 AS DECIMAL(10,2)) AS m"}).json()
    assert body["rows"] == [[None, "2024-03-01", 2.5]]


@pytest.mark.parametrize(("sql", "reason"), [
    ("DROP TABLE superstore", "DROP is not allowed"),
    ("SELECT 1; SELECT 2", "2 statements found"),
    ("SELECT * FROM read_csv('/etc/passwd')", "read_csv() is not allowed"),
    ("SELECT * FROM superstor", "unknown table 'superstor'"),
    ("SELECT getenv('HOME')", "getenv() is not allowed"),
    ("COPY superstore TO '/tmp/x.csv'", "not allowed"),
])
def test_unsafe_sql_is_a_400_with_the_reason(client, sql: str, reason: str) -> None:
    response = client.post("/v1/sql", json={"sql": sql, "dataset": "superstore"})
    assert response.status_code == 400
    assert response.json()["code"] == "unsafe_sql"
    assert reason in response.json()["detail"]


def test_sql_the_engine_rejects_is_a_400_with_the_engine_message(client) -> None:
    response = client.post("/v1/sql", json={"sql": "SELECT CAST('abc' AS INTEGER) AS x", "dataset": "superstore"})
    assert response.status_code == 400
    assert response.json()["code"] == "query_failed"
    assert "DuckDB rejected the query" in response.json()["detail"]


def test_an_unknown_dataset_is_a_400(client) -> None:
    response = client.post("/v1/sql", json={"sql": "SELECT 1", "dataset": "nope"})
    assert response.status_code == 400
    assert "unknown dataset 'nope'" in response.json()["detail"]
