"""Record boundaries found by quote parity: the one place that decides where a CSV record ends."""

from __future__ import annotations

from spark_jobs.records import split_records


def spans(buf: bytes, **options) -> list[tuple[bytes, int]]:
    rec = split_records(buf, first_line=1, **{"final": True, **options})
    return [(buf[s:e], int(line)) for s, e, line in zip(rec.starts, rec.ends, rec.lines)]


def test_quoted_newline_stays_inside_one_record_and_moves_the_line_count() -> None:
    assert spans(b'a,"x\ny",1\nb,2,3\n') == [(b'a,"x\ny",1\n', 1), (b"b,2,3\n", 3)]


def test_crlf_ends_are_one_line_each() -> None:
    assert spans(b"a,1\r\nb,2\r\nc,3\r\n") == [(b"a,1\r\n", 1), (b"b,2\r\n", 2), (b"c,3\r\n", 3)]


def test_escaped_quotes_keep_the_record_open_only_while_the_field_is_open() -> None:
    assert spans(b'a,"say ""hi""\nthere",1\nb\n') == [
        (b'a,"say ""hi""\nthere",1\n', 1),
        (b"b\n", 3),
    ]


def test_blank_lines_are_not_records_but_still_count_as_lines() -> None:
    assert spans(b"a\n\n\r\nb\n") == [(b"a\n", 1), (b"b\n", 4)]


def test_last_record_without_newline_counts_only_when_the_buffer_is_final() -> None:
    assert spans(b"a\nb") == [(b"a\n", 1), (b"b", 2)]
    assert spans(b"a\nb", final=False) == [(b"a\n", 1)]
    assert split_records(b"a\nb", first_line=1, final=False).consumed == 2


def test_a_quote_that_never_closes_is_reported_and_not_a_record() -> None:
    rec = split_records(b'a\nb,"open\nc\n', first_line=1, final=True)
    assert rec.open_quote
    assert rec.consumed == 2
    assert len(rec.starts) == 1


def test_fields_are_counted_outside_quotes_only() -> None:
    rec = split_records(b'a,"b,c",d\ne\n', first_line=1, final=True, count_fields=True)
    assert rec.fields.tolist() == [3, 1]


def test_json_lines_mode_ignores_quotes() -> None:
    assert spans(b'{"a": "x\\"y"}\n{"b": 1}\n', quoted=False) == [
        (b'{"a": "x\\"y"}\n', 1),
        (b'{"b": 1}\n', 2),
    ]


def test_line_at_turns_an_offset_into_a_line_number() -> None:
    rec = split_records(b"ab\ncd\nef", first_line=10, final=True)
    assert [rec.line_at(offset, first_line=10) for offset in (0, 3, 6, 8)] == [10, 11, 12, 12]
