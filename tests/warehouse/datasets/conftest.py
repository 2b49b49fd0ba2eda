"""A small TPC-DS store sales warehouse, generated and ingested once per session (read it, never write it).

The fact is the first 30,000 generated rows of store_sales (they hold NULL keys and sales without a
date like the full table) plus a second file of rows that must be quarantined.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from retail_insights.settings import get_settings
from tests.warehouse.datasets.tpcds_support import generate

FACT_ROWS = 30_000
# Lines of store_sales.2.csv (line 1 is the header): each breaks one rule.
BAD_ROWS = {
    2: ("999999", "1", "UNKNOWN_ITEM"),      # (ss_item_sk, ss_store_sk, code)
    3: ("1", "999", "UNKNOWN_STORE"),
    4: ("1", "1", "BAD_NUMBER"),             # ss_quantity "a dozen"
}


@dataclass(frozen=True)
class Tpcds:
    folder: Path
    home: Path
    summary: object


def _bad_rows(folder: Path) -> None:
    header, first = (folder / "store_sales.csv").read_text(encoding="utf-8").splitlines()[:2]
    names = header.split(",")
    lines = [header]
    for number, (item, store, code) in BAD_ROWS.items():
        row = dict(zip(names, first.split(","), strict=True))
        row.update(ss_item_sk=item, ss_store_sk=store, ss_ticket_number=str(90_000_000 + number))
        if code == "BAD_NUMBER":
            row["ss_quantity"] = "a dozen"
        lines.append(",".join(row[n] for n in names))
    (folder / "store_sales.2.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="session")
def tpcds(tmp_path_factory: pytest.TempPathFactory) -> Tpcds:
    from spark_jobs.ingest import ingest

    folder = generate(tmp_path_factory.mktemp("tpcds-csv"), fact_rows=FACT_ROWS)
    _bad_rows(folder)
    (folder / "web_sales.csv").write_text("ws_item_sk\n1\n", encoding="utf-8")   # another table: ignored
    home = tmp_path_factory.mktemp("tpcds-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RETAIL_HOME", str(home))
        get_settings.cache_clear()
        summary = ingest([folder], dataset="tpcds_store", progress=False)
    get_settings.cache_clear()
    return Tpcds(folder, home, summary)


@pytest.fixture
def tpcds_home(tpcds: Tpcds, monkeypatch: pytest.MonkeyPatch) -> Iterator[Tpcds]:
    """RETAIL_HOME pointing at the session's TPC-DS warehouse."""
    monkeypatch.setenv("RETAIL_HOME", str(tpcds.home))
    get_settings.cache_clear()
    yield tpcds
    get_settings.cache_clear()
