"""The DuckDB backend: refused writes leave every byte in place, slow queries stop."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path
import subprocess
import sys
from typing import Any

import pyarrow as pa
import pytest

from retail_insights.settings import get_settings
from warehouse import views
from warehouse.backends import QueryTimeout, get_backend
from warehouse.backends.duckdb import DuckDBBackend
from warehouse.guard import UnsafeSQL

ATTACKS = [
    "DROP TABLE sales",
    "CREATE TABLE copy AS SELECT * FROM sales",
    "CREATE OR REPLACE VIEW sales AS SELECT 1 AS x",
    "INSERT INTO sales (order_id) VALUES ('x')",
    "UPDATE sales SET revenue = 0",
    "DELETE FROM sales_monthly",
    "COPY sales TO 'stolen.csv'",
    "COPY (SELECT 1) TO 'retail-home/warehouse/retail_sales/sales/_delta_log/00000000000000000009.json'",  # noqa: E501
    "ATTACH 'other.duckdb' AS other",
    "INSTALL httpfs",
    "LOAD httpfs",
    "PRAGMA enable_checkpoint_on_shutdown",
    "SET enable_external_access = true",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_parquet('retail-home/warehouse/retail_sales/sales/**/*.parquet')",
    "SELECT 1; DROP TABLE sales",
    "SELECT 1 /* ok */ ; DELETE FROM sales -- gone",
    "WITH gone AS (DELETE FROM sales RETURNING *) SELECT COUNT(*) FROM gone",
    "SELECT * FROM \"read_text\"('/etc/hostname')",
    "SELECT getenv('HOME')",
]


def _fingerprint(home: Path) -> dict[str, str]:
    """Every file under RETAIL_HOME except the DuckDB file, by content hash."""
    return {
        str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(home.rglob("*"))
        if p.is_file() and p.suffix != ".duckdb"
    }


def test_writes_and_file_access_are_refused_and_leave_the_data_unchanged(
    make_silver: Any,
    write_silver: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_silver("retail_sales", make_silver("retail_sales", 60, seed=3))
    views.refresh("retail_sales")
    monkeypatch.chdir(tmp_path)  # relative paths in the attacks point into RETAIL_HOME
    home = get_settings().home.resolve()
    backend = get_backend("duckdb")
    before = _fingerprint(home), backend.query("SELECT COUNT(*), SUM(revenue) FROM sales").rows
    for attack in ATTACKS:
        with pytest.raises(UnsafeSQL, match=r"not allowed|statements found|unknown table"):
            backend.query(attack)
    assert (
        _fingerprint(home),
        backend.query("SELECT COUNT(*), SUM(revenue) FROM sales").rows,
    ) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["retail-home"]


def test_a_query_running_past_the_timeout_is_interrupted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETAIL_SQL__TIMEOUT_S", "0.2")
    get_settings.cache_clear()
    with pytest.raises(
        QueryTimeout, match=r"query ran longer than 0.2s and was stopped.*RETAIL_SQL__TIMEOUT_S"
    ):
        DuckDBBackend().query(
            "SELECT COUNT(*) FROM range(1000000) AS a, range(1000000) AS b WHERE a.range <> b.range"
        )


def test_integer_sums_come_back_as_python_ints(make_silver: Any, write_silver: Any) -> None:
    write_silver(
        "retail_sales", make_silver("retail_sales", 10, seed=3, start=dt.date(2025, 3, 1), days=20)
    )
    views.refresh("retail_sales")
    rows = DuckDBBackend().query("SELECT SUM(orders), SUM(units) FROM sales_daily").rows
    assert all(type(v) is int for v in rows[0]) and rows[0][0] == 10


def test_a_view_answers_with_fewer_bytes_and_rows_than_the_base_table(
    make_silver: Any, write_silver: Any
) -> None:
    rows = make_silver("retail_sales", 3000, seed=9, start=dt.date(2024, 1, 1), days=366)
    for column in (
        "sub_category",
        "state",
        "region",
        "channel",
        "segment",
        "status",
    ):  # few groups per month
        index = rows.schema.get_field_index(column)
        rows = rows.set_column(
            index, column, pa.repeat(rows[column][0], len(rows)).cast(pa.string())
        )
    write_silver("retail_sales", rows)
    views.refresh("retail_sales")
    backend = DuckDBBackend()
    view = backend.query(
        "SELECT month, SUM(revenue) FROM sales_monthly WHERE year = 2024 GROUP BY 1 ORDER BY 1"
    )
    base = backend.query(
        "SELECT month, SUM(revenue) FROM sales WHERE year = 2024 GROUP BY 1 ORDER BY 1"
    )
    assert view.rows == base.rows
    assert 0 < view.bytes_read < base.bytes_read
    assert (
        view.rows_read <= 12 * 10 < base.rows_read
    )  # 9 categories and null == sum(1 for d in rows["order_date"].to_pylist() if d.year == 2024)


def test_publish_writes_the_duckdb_file(make_silver: Any, write_silver: Any) -> None:
    write_silver("superstore", make_silver("superstore", 5, seed=1))
    published = DuckDBBackend(dataset="superstore").publish()
    assert (
        published.location == str(get_settings().duckdb_path) and Path(published.location).is_file()
    )
    assert "superstore.superstore_monthly" in published.tables


def test_using_the_duckdb_backend_never_imports_google_cloud(tmp_path: Path) -> None:
    code = (
        "import sys; from warehouse.backends import get_backend; get_backend('duckdb'); "
        "import warehouse.views, warehouse.catalog, warehouse.guard; "
        "assert not [m for m in sys.modules if m.startswith('google.cloud')], 'imported'"
    )
    env = {**os.environ, "RETAIL_HOME": str(tmp_path)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=Path(__file__).parents[3])


@pytest.fixture
def every_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Versions listed afresh on every query: each commit is seen at once."""
    monkeypatch.setenv("RETAIL_CACHE__VERSION_TTL_S", "0")
    get_settings.cache_clear()


def _open_catalog(dataset: str) -> object:
    """The catalog the backend keeps open for ``dataset`` right now."""
    from warehouse.backends.duckdb import SNAPSHOTS

    entry = SNAPSHOTS.acquire(dataset)
    entry.lock.release()
    return entry.cat


def test_the_catalog_stays_open_between_queries_and_reopens_after_a_new_commit(
    make_silver: Any, write_silver: Any, every_commit: None
) -> None:
    write_silver("retail_sales", make_silver("retail_sales", 30, seed=1))

    def count_and_catalog() -> tuple[int, object]:
        rows = DuckDBBackend().query("SELECT COUNT(*) FROM sales").rows
        return rows[0][0], _open_catalog("retail_sales")

    first, second = count_and_catalog(), count_and_catalog()
    write_silver("retail_sales", make_silver("retail_sales", 5, seed=2))
    third = count_and_catalog()
    assert first[0] == second[0] == 30 and first[1] is second[1]
    assert third[0] == 35 and third[1] is not first[1]


def test_a_commit_to_another_dataset_keeps_the_catalog_and_sql_naming_it_reads_its_latest_commit(
    make_silver: Any, write_silver: Any, every_commit: None
) -> None:
    write_silver("retail_sales", make_silver("retail_sales", 30, seed=1))
    write_silver("superstore", make_silver("superstore", 10, seed=1))
    backend = DuckDBBackend(dataset="retail_sales")
    assert backend.query("SELECT COUNT(*) FROM sales").rows == [(30,)]
    before = _open_catalog("retail_sales")
    assert "superstore" not in before.columns()          # its own tables only
    across = "SELECT (SELECT COUNT(*) FROM sales) + (SELECT COUNT(*) FROM superstore.superstore)"
    assert backend.query(across).rows == [(40,)]
    write_silver("superstore", make_silver("superstore", 4, seed=2))
    assert backend.query("SELECT COUNT(*) FROM sales").rows == [(30,)]
    assert _open_catalog("retail_sales") is before       # superstore's commit left it open
    assert backend.query(across).rows == [(44,)]         # the catalog of every dataset was reopened


def test_queries_from_many_threads_each_get_their_own_answer(make_silver: Any, write_silver: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    write_silver("retail_sales", make_silver("retail_sales", 200, seed=4))
    sql = "SELECT COUNT(*) FROM sales WHERE quantity >= ?"
    backend = DuckDBBackend()
    expected = {q: backend.query(sql, [q]).rows for q in range(1, 6)}
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda q: (q, backend.query(sql, [q]).rows), [q for q in range(1, 6) for _ in range(8)]))
    assert all(rows == expected[q] for q, rows in got)
    assert len({rows[0][0] for rows in expected.values()}) > 1   # the answers differ, so a mix-up would show


def test_a_snapshot_whose_files_vanish_mid_service_is_reopened_and_the_query_answered(
    make_silver: Any, write_silver: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An overwrite then VACUUM removes the files the open catalog reads, before the version is listed again."""
    from deltalake import DeltaTable

    monkeypatch.setenv("RETAIL_CACHE__VERSION_TTL_S", "3600")  # the backend would not notice the commit
    get_settings.cache_clear()
    write_silver("retail_sales", make_silver("retail_sales", 30, seed=1))
    backend = DuckDBBackend()
    assert backend.query("SELECT COUNT(*) FROM sales").rows == [(30,)]
    path = write_silver("retail_sales", make_silver("retail_sales", 7, seed=2), mode="overwrite")
    removed = DeltaTable(str(path)).vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False)
    assert removed   # the old snapshot's files are gone
    assert backend.query("SELECT COUNT(*) FROM sales").rows == [(7,)]


def test_files_lost_outside_any_commit_fail_with_a_message_naming_the_fix(
    make_silver: Any, write_silver: Any
) -> None:
    from warehouse.backends import QueryFailed

    path = write_silver("retail_sales", make_silver("retail_sales", 30, seed=1))
    backend = DuckDBBackend()
    backend.query("SELECT COUNT(*) FROM sales")
    for parquet in path.rglob("*.parquet"):
        parquet.unlink()
    with pytest.raises(QueryFailed, match=r"table files are missing: .*rerun the load"):
        backend.query("SELECT SUM(revenue) FROM sales")


def test_a_live_query_waiting_for_a_connection_goes_before_background_work() -> None:
    """The turn lock alone (no DuckDB): a warm-up's query never takes the connection from a live request."""
    import threading
    import time as clock

    from warehouse.backends.base import BACKGROUND, in_background
    from warehouse.backends.duckdb import _TurnLock

    lock, order = _TurnLock(), []
    lock.acquire()                                   # a live query is running

    def take(name: str, background: bool) -> None:
        lock.acquire(background=background)
        order.append(name)
        lock.release()

    warm = threading.Thread(target=take, args=("warm-up", True))
    warm.start()
    live = threading.Thread(target=take, args=("live", False))
    live.start()
    deadline = clock.monotonic() + 10
    while lock._live_waiting == 0 and clock.monotonic() < deadline:   # the live one is queued
        clock.sleep(0.005)
    lock.release()
    warm.join(10)
    live.join(10)
    assert order == ["live", "warm-up"]
    assert not BACKGROUND.get()
    with in_background():
        assert BACKGROUND.get()
    assert not BACKGROUND.get()
