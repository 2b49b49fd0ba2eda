"""Answers cached under the version of the months they read: a load of new months keeps the rest."""

from __future__ import annotations

from datetime import date
from pathlib import Path
import shutil

import pytest

from assistant.intent import Intent, TimeWindow
from assistant.scope import months_read, partition_date
from retail_insights.settings import Settings, get_settings


def _year(y: int, column: str = "order_date") -> TimeWindow:
    return TimeWindow(date(y, 1, 1), date(y, 12, 31), str(y), column)


def test_the_months_an_intent_reads_end_with_its_latest_window() -> None:
    total_2016 = Intent("superstore", ("sales",), "total", time=_year(2016))
    assert months_read(total_2016, "order_date") == (2016, 12)
    assert months_read(total_2016, "order_date", spill_days=1) == (2017, 1)   # a date taken from a timestamp
    grew = Intent("superstore", ("sales",), "growth", time=_year(2017), compare_time=_year(2015))
    assert months_read(grew, "order_date") == (2017, 12)
    june = Intent("retail_sales", ("revenue",), "total", time=TimeWindow(date(2024, 6, 1), date(2024, 6, 29), "June"))
    assert months_read(june, "order_date", spill_days=1) == (2024, 6)


def test_an_intent_without_a_window_or_on_another_date_may_read_any_month() -> None:
    assert months_read(Intent("superstore", ("sales",), "total"), "order_date") is None
    shipped = Intent("superstore", ("sales",), "total", time=_year(2016, "ship_date"))
    assert months_read(shipped, "order_date") is None
    assert months_read(Intent("superstore", ("sales",), "total", time=_year(2016)), None) is None


def test_each_dataset_names_the_date_its_partitions_follow() -> None:
    assert {name: partition_date(name) for name in ("retail_sales", "superstore", "tpcds_store")} == \
        {"retail_sales": "order_date", "superstore": "order_date", "tpcds_store": "sold_date"}


@pytest.fixture
def own_home(tmp_path: Path, built_warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    shutil.copytree(built_warehouse / "warehouse", home / "warehouse")
    monkeypatch.setenv("RETAIL_HOME", str(home))
    monkeypatch.setenv("RETAIL_CACHE__VERSION_TTL_S", "0")
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


def test_a_load_of_december_2017_keeps_the_cached_2016_answer_and_recomputes_2017(own_home: Path) -> None:
    from assistant.factory import build_assistant
    from tests.assistant.warehouse_builder import append_superstore, superstore_rows

    assistant = build_assistant(Settings(), semantic=False)
    ask = lambda q: assistant.answer(q, dataset="superstore", as_of=date(2018, 1, 1))  # noqa: E731
    before_2016, before_2017, before_all = ask("total sales in 2016"), ask("total sales in 2017"), ask("total sales")
    late = superstore_rows(20).assign(row_id=[str(800_000 + i) for i in range(20)],
                                      order_id=[f"CA-2017-8{i:05d}" for i in range(20)],
                                      order_date="2017-12-29", ship_date="2017-12-31")
    assert append_superstore(own_home, late) == 20
    after_2016, after_2017 = ask("total sales in 2016"), ask("total sales in 2017")

    assert after_2016.data_version == after_2017.data_version > before_2016.data_version
    assert after_2016.tier == "cache_l1" and after_2016.rows == before_2016.rows     # 2016 did not change
    assert after_2017.tier == "metadata"
    added = sum(float(s) for s in late["sales"])
    assert after_2017.rows[0][0] == pytest.approx(before_2017.rows[0][0] + added)
    after_all = ask("total sales")                     # all time reads December 2017 too
    assert after_all.tier == "metadata" and after_all.rows[0][0] == pytest.approx(before_all.rows[0][0] + added)
