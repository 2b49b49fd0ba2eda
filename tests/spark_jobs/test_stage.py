"""One chunk through read -> transform -> staged files, as each engine's worker runs it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st
import pyarrow.parquet as pq

from spark_jobs.readers import plan_file
from spark_jobs.stage import MALFORMED_ROW, StageJob, stage_chunk

HEADER = (
    "order_id,order_ts,updated_at,status,ship_date,channel,customer_id,segment,product_id,product_name,"
    "category,sub_category,city,state,quantity,unit_price,discount,unit_cost"
)
NOW = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


def order(order_id: str, month: int = 1) -> str:
    return (
        f"{order_id},2025-0{month}-03T09:00:00Z,,Shipped,2025-0{month}-04,Online,C-1,Consumer,P-1,Lamp,Home,"
        "Lighting,Fresno,CA,2,10.00,0,4.00"
    )


def stage_file(path: Path, staging: Path, *, chunk_rows: int = 1000):
    job = StageJob(dataset="retail_sales", batch_id="b-test", ingested_at=NOW, staging=str(staging))
    chunks = plan_file(path, fmt="csv", file_index=0, source_file=path.name, chunk_rows=chunk_rows)
    return [stage_chunk(chunk, job) for chunk in chunks]


def test_a_chunk_stages_one_file_per_month_with_rows_in_line_order(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("\n".join([HEADER, order("a", 2), order("b", 1), order("c", 2), "x,y"]) + "\n")
    (stats,) = stage_file(path, tmp_path / "staging")
    assert (stats.input_rows, stats.clean_rows, stats.quarantined_rows, stats.malformed_rows) == (
        4,
        3,
        1,
        1,
    )
    assert [Path(f).name for f in stats.clean_files] == [
        "f00000-c000000-202501.parquet",
        "f00000-c000000-202502.parquet",
    ]
    assert [pq.read_table(f)["order_id"].to_pylist() for f in stats.clean_files] == [
        ["b"],
        ["a", "c"],
    ]
    (quarantine,) = [pq.read_table(f).to_pylist() for f in stats.quarantine_files]
    assert quarantine[0]["reason_codes"] == [MALFORMED_ROW] and quarantine[0]["order_id"] is None
    assert quarantine[0]["reasons"] == "MALFORMED_ROW: expected 18 fields, found 2; raw line: x,y"
    assert (quarantine[0]["source_line"], quarantine[0]["year"], quarantine[0]["month"]) == (
        5,
        2025,
        3,
    )
    assert stats.validation["input_rows"] == 4 and stats.validation["quarantined_by_code"] == {
        MALFORMED_ROW: 1
    }


def test_a_chunk_of_nothing_but_malformed_lines_still_adds_up(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes((HEADER + "\n\xff\xfe\n1,2\n").encode("latin-1"))
    (stats,) = stage_file(path, tmp_path / "staging")
    assert (stats.input_rows, stats.clean_rows, stats.quarantined_rows, stats.malformed_rows) == (
        2,
        0,
        2,
        2,
    )
    assert stats.clean_files == ()


_line = st.one_of(
    st.builds(order, st.text(alphabet="abc123", min_size=1, max_size=6), st.sampled_from([1, 2])),
    st.builds(lambda o: o.replace("CA", "Narnia"), st.builds(order, st.just("q"))),  # BAD_STATE
    st.binary(max_size=40).map(lambda b: b.decode("latin-1")),
    st.text(alphabet='ab,"\r\xe9', max_size=30),
    st.integers(50_000, 200_000).map(lambda n: order("big").replace("Lamp", "L" * n)),
    st.just(""),
)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(lines=st.lists(_line, max_size=20), chunk_rows=st.integers(3, 8))
def test_dirty_chunks_always_add_up_and_every_row_lands_in_a_staged_file(
    tmp_path_factory, lines, chunk_rows
) -> None:
    folder = tmp_path_factory.mktemp("stage")
    path = folder / "dirty.csv"
    path.write_bytes((HEADER + "\n" + "\n".join(lines) + "\n").encode("utf-8", "surrogateescape"))
    for stats in stage_file(path, folder / "staging", chunk_rows=chunk_rows):
        assert stats.input_rows == stats.clean_rows + stats.quarantined_rows
        assert sum(pq.read_metadata(f).num_rows for f in stats.clean_files) == stats.clean_rows
        quarantined = [row for f in stats.quarantine_files for row in pq.read_table(f).to_pylist()]
        assert len(quarantined) == stats.quarantined_rows
        assert (
            sum(r["reason_codes"] == [MALFORMED_ROW] for r in quarantined) == stats.malformed_rows
        )
        assert sum(stats.quarantined_by_code.values()) >= stats.quarantined_rows
