"""Raw files -> chunks -> text rows: line numbers, chunking, malformed lines, formats.

The property tests throw structured and unstructured garbage at the CSV reader and check that it
never crashes, that the chunk size never changes what is read, and that no line vanishes.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from retail_insights.errors import DataError, UsageError
from spark_jobs.raw_chunk import Malformed
from spark_jobs.readers import file_format, plan_file, read_chunk


def read_all(
    path: Path, *, chunk_rows: int = 1000, fmt: str | None = None
) -> tuple[list[dict], list[Malformed]]:
    rows, malformed = [], []
    chunks = list(
        plan_file(
            path,
            fmt=fmt or file_format(path),
            file_index=0,
            source_file=path.name,
            chunk_rows=chunk_rows,
        )
    )
    for chunk in chunks:
        raw = read_chunk(chunk)
        rows += raw.rows.to_dict("records")
        malformed += raw.malformed
    return rows, malformed


def write(tmp_path: Path, data: bytes, name: str = "raw.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_csv_rows_carry_the_physical_line_they_start_on(tmp_path: Path) -> None:
    data = (
        b'\xef\xbb\xbfid,note\r\n1,plain\r\n2,"two\r\nlines"\r\n\r\n3,"a ""quoted"" word"\r\n4,last'
    )
    rows, malformed = read_all(write(tmp_path, data))
    assert malformed == []
    assert [(r["id"], r["note"], r["source_line"]) for r in rows] == [
        ("1", "plain", 2),
        ("2", "two\r\nlines", 3),
        ("3", 'a "quoted" word', 6),
        ("4", "last", 7),
    ]


def test_empty_fields_stay_empty_text_not_null(tmp_path: Path) -> None:
    rows, _ = read_all(write(tmp_path, b'a,b,c\n,"",x\n'))
    assert rows == [{"a": "", "b": "", "c": "x", "source_line": 2}]


@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 1000])
def test_any_chunk_size_reads_the_same_rows_and_lines(tmp_path: Path, chunk_rows: int) -> None:
    data = b'id,v\n1,"a\nb"\n2,x\n\n3,y,extra\n4,\xff\n5,z\n6,"q"\n'
    assert read_all(write(tmp_path, data), chunk_rows=chunk_rows) == read_all(
        write(tmp_path, data, "b.csv")
    )


@pytest.mark.parametrize("chunk_rows", [1, 1000])
def test_a_byte_order_mark_opening_a_later_line_is_kept_whatever_the_chunk_size(
    tmp_path: Path, chunk_rows: int
) -> None:
    # pyarrow drops a BOM that opens its input: a chunk starting on this line must not lose it
    rows, _ = read_all(write(tmp_path, "a,b,c\n,,\n\ufeff,,\n".encode()), chunk_rows=chunk_rows)
    assert [r["a"] for r in rows] == ["", "\ufeff"]


def test_wrong_field_counts_and_bad_bytes_become_malformed_lines_with_their_raw_text(
    tmp_path: Path,
) -> None:
    rows, malformed = read_all(write(tmp_path, b"id,v\n1,ok\n2\n3,a,b\n4,caf\xe9\n5,fine\n"))
    assert [r["id"] for r in rows] == ["1", "5"]
    assert [(m.line, m.text) for m in malformed] == [(3, "2"), (4, "3,a,b"), (5, "4,caf\\xe9")]
    assert "expected 2 fields, found 1" in malformed[0].reason
    assert "not UTF-8" in malformed[2].reason


def test_a_stray_quote_costs_its_own_line_not_the_rest_of_the_file(tmp_path: Path) -> None:
    rows, malformed = read_all(write(tmp_path, b'id,v\n1,"broken\n2,b\n3,c\n'))
    assert [(r["id"], r["source_line"]) for r in rows] == [("2", 3), ("3", 4)]
    assert [(m.line, m.text) for m in malformed] == [(2, '1,"broken')]


def test_a_quote_inside_a_field_is_a_literal_like_in_any_lenient_csv_reader(tmp_path: Path) -> None:
    rows, malformed = read_all(write(tmp_path, b'id,v\n1,5" screen\n2,b\n'))
    assert malformed == []
    assert [r["v"] for r in rows] == ['5" screen', "b"]


def test_a_huge_field_is_read_whole(tmp_path: Path) -> None:
    big = "x" * 3_000_000
    rows, malformed = read_all(write(tmp_path, f'id,v\n1,"{big}"\n2,{big}\n'.encode()))
    assert malformed == [] and [len(r["v"]) for r in rows] == [3_000_000, 3_000_000]


@pytest.mark.parametrize("data", [b"", b"\n\n", b"id,v\n", b"id,v\r\n\r\n"])
def test_empty_and_header_only_files_have_no_rows(tmp_path: Path, data: bytes) -> None:
    assert read_all(write(tmp_path, data)) == ([], [])


def test_a_header_that_repeats_a_column_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"repeats the columns \['v'\]"):
        read_all(write(tmp_path, b"id,v,v\n1,2,3\n"))


def test_json_lines_values_become_text_and_bad_lines_are_malformed(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "a", "qty": 2, "price": 1.5, "ok": True, "gone": None}),
        "{not json",
        "[1, 2]",
        "",
        json.dumps({"id": "b", "tags": ["x"]}),
    ]
    rows, malformed = read_all(
        write(tmp_path, "\n".join(lines).encode(), "raw.jsonl"), chunk_rows=2
    )
    assert [{k: v for k, v in r.items() if v != ""} for r in rows] == [
        {"id": "a", "qty": "2", "price": "1.5", "ok": "true", "source_line": 1},
        {"id": "b", "tags": '["x"]', "source_line": 5},
    ]
    assert [(m.line, m.text) for m in malformed] == [(2, "{not json"), (3, "[1, 2]")]
    assert "not an object" in malformed[1].reason


def test_a_byte_order_mark_before_the_first_json_line_is_not_an_error(tmp_path: Path) -> None:
    rows, malformed = read_all(write(tmp_path, b'\xef\xbb\xbf{"id": "a"}\n', "bom.jsonl"))
    assert (rows, malformed) == ([{"id": "a", "source_line": 1}], [])


def test_parquet_values_become_iso_text_and_rows_are_numbered(tmp_path: Path) -> None:
    table = pa.table(
        {
            "id": ["a", "b", None],
            "at": pa.array(
                [dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)] * 3, pa.timestamp("us", tz="UTC")
            ),
            "day": pa.array([dt.date(2024, 1, 2)] * 3),
            "qty": pa.array([1, 2, None], pa.int64()),
        }
    )
    path = tmp_path / "raw.parquet"
    pq.write_table(table, path, row_group_size=1)
    rows, malformed = read_all(path, chunk_rows=2)
    assert malformed == []
    assert rows[0] == {
        "id": "a",
        "at": "2024-01-02T03:04:05.000000+0000",
        "day": "2024-01-02",
        "qty": "1",
        "source_line": 1,
    }
    assert [(r["id"], r["qty"], r["source_line"]) for r in rows[1:]] == [("b", "2", 2), ("", "", 3)]


def test_an_unknown_extension_is_refused_with_the_allowed_ones() -> None:
    with pytest.raises(UsageError, match=r"unknown extension '\.xlsx'.*\.csv, \.jsonl"):
        file_format(Path("sales.xlsx"))


# --- properties ---------------------------------------------------------------------------------

WIDTH = 3
_plain = st.text(
    alphabet=st.characters(blacklist_characters=',"\r\n', blacklist_categories=("Cs",)), max_size=8
)
_quoted = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8).map(
    lambda s: '"' + s.replace('"', '""') + '"'
)
_field = st.one_of(_plain, _quoted)
_good = st.tuples(*[_field] * WIDTH).map(lambda f: ("good", ",".join(f)))
_short = (
    st.lists(_plain, min_size=1, max_size=WIDTH - 1)
    .map(lambda f: ("bad", ",".join(f)))
    .filter(lambda line: line[1] != "")
)  # an empty line is blank, not a short row
_long = st.lists(_plain, min_size=WIDTH + 1, max_size=WIDTH + 3).map(lambda f: ("bad", ",".join(f)))
_latin1 = st.tuples(*[_plain] * WIDTH).map(
    lambda f: ("bytes", ",".join(f) + "\udcff")
)  # ends in byte 0xff
_huge = st.integers(100_000, 400_000).map(lambda n: ("good", f'1,"{"y" * n}",2'))
_blank = st.just(("blank", ""))


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    lines=st.lists(st.one_of(_good, _good, _short, _long, _latin1, _blank, _huge), max_size=25),
    crlf=st.booleans(),
    chunk_rows=st.integers(1, 7),
)
def test_structured_dirt_is_read_exactly_whatever_the_chunk_size(
    tmp_path_factory, lines, crlf, chunk_rows
) -> None:
    end = "\r\n" if crlf else "\n"
    path = tmp_path_factory.mktemp("csv") / "dirty.csv"
    path.write_bytes(_encode("a,b,c" + end + end.join(text for _, text in lines) + end))
    rows, malformed = read_all(path, chunk_rows=chunk_rows)
    line, expected_rows, expected_bad = 2, [], []
    for kind, text in lines:
        if kind == "good":
            expected_rows.append(line)
        elif kind in ("bad", "bytes"):
            expected_bad.append(line)
        line += 1 + text.count("\n")
    assert [r["source_line"] for r in rows] == expected_rows
    assert [m.line for m in malformed] == expected_bad
    assert read_all(path, chunk_rows=1000) == (rows, malformed)


_chaos_line = st.one_of(
    st.binary(max_size=30),
    st.text(alphabet='ab,"\r \xe9', max_size=20).map(lambda s: s.encode()),
    st.sampled_from([b"1,2,3", b'"', b'""', b'a,"b', b'a,b"c,d', b"\xff\xfe", b"\x00,\x00,\x00"]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(_chaos_line, max_size=30), chunk_rows=st.integers(1, 5))
def test_garbage_never_crashes_and_no_line_vanishes(tmp_path_factory, lines, chunk_rows) -> None:
    path = tmp_path_factory.mktemp("csv") / "garbage.csv"
    path.write_bytes(b"a,b,c\n" + b"\n".join(lines) + b"\n")
    rows, malformed = read_all(path, chunk_rows=chunk_rows)
    assert read_all(path, chunk_rows=1000) == (rows, malformed)
    starts = [r["source_line"] for r in rows] + [m.line for m in malformed]
    assert len(starts) == len(set(starts))
    # Every quote-free line can be found again, in a row's fields or in a malformed line's text.
    haystack = "\n".join(
        [",".join(str(v) for k, v in r.items() if k != "source_line") for r in rows]
        + [m.text for m in malformed]
    )
    for physical in path.read_bytes().split(b"\n")[1:]:
        text = physical.rstrip(b"\r").decode("utf-8", "backslashreplace")
        if b'"' not in physical and physical.strip(b"\r"):
            assert text.strip("\r") in haystack
