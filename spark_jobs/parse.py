"""Vectorised text -> typed value parsers (pyarrow compute; pandas where Arrow would fail a whole array).

Each parser takes trimmed text and returns typed values where an empty or unparseable input is
null; callers tell "empty" from "unparseable" by looking at the text. Nothing here raises on bad
data: bad data is what the validation suite is for.

What is accepted (choices where SPEC is silent):
- integers: optional sign, up to 18 digits, optionally followed by ``.0`` (a float column written
  out as text); no thousands separators, no exponent.
- decimals: optional sign, digits with an optional fraction (``19.99``, ``.5``, ``5.``); no
  exponent. More fractional digits than the type's scale are rounded half away from zero (only the
  first dropped digit decides that rounding, so the rest are cut before parsing). A value whose
  integer part does not fit the type is unparseable.
- timestamps: ISO-8601 ``YYYY-MM-DD[( |T)HH:MM[:SS[.fraction]][Z|+HH[:MM]|-HH[:MM]]]``; naive means
  UTC; fractions beyond microseconds are cut. Words like ``now`` (which pandas would accept) are not.
- dates: ``YYYY-MM-DD``, ``M/D/YYYY`` and ``M-D-YY`` (one-digit months and days allowed; two-digit
  years 69-99 are 19xx, 00-68 are 20xx, as in POSIX ``%y``); the day must exist in its month. The
  pattern picks the format, so ``11-08-16`` is 8 November 2016, never the year 11.
Digits are ASCII only (RE2's ``\\d``).
"""

from __future__ import annotations

from collections.abc import Callable
import re

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from retail_insights.errors import ConfigError
from warehouse.spec import DatasetSpec, SourceColumn

_INT = r"^[+-]?\d{1,18}(?:\.0*)?$"
_DECIMAL = r"^[+-]?(?:\d{1,30}(?:\.\d*)?|\.\d+)$"
_TIMESTAMP = (r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
              r"(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$")
_DATE_FORMATS = (  # (pattern, strptime format); %y: 69-99 -> 19xx, 00-68 -> 20xx
    (r"^\d{4}-\d{1,2}-\d{1,2}$", "%Y-%m-%d"),
    (r"^\d{1,2}/\d{1,2}/\d{4}$", "%m/%d/%Y"),
    (r"^\d{1,2}-\d{1,2}-\d{2}$", "%m-%d-%y"),
)
_NULL_TEXT = pa.scalar(None, pa.string())
_FIRST_INSTANT = pa.scalar(pd.Timestamp("0001-01-01", tz="UTC"), pa.timestamp("us", tz="UTC"))
_LAST_INSTANT = pa.scalar(pd.Timestamp("9999-12-31T23:59:59.999999", tz="UTC"), pa.timestamp("us", tz="UTC"))


def text_array(values: pd.Series) -> pa.Array:
    """A raw column as an Arrow string array; missing values become ""."""
    if isinstance(values.dtype, pd.StringDtype) or getattr(values.dtype, "pyarrow_dtype", None) is not None:
        arr = pa.array(values)
    else:
        if values.dtype != object or not all(isinstance(v, str) for v in values.to_numpy()):
            values = values.map(lambda v: "" if v is None or v is pd.NA or v != v else str(v))  # NaN != NaN
        arr = pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return pc.fill_null(arr.cast(pa.string()), "")


def trim(text: pa.Array) -> pa.Array:
    return pc.utf8_trim_whitespace(text)


def empty_to_null(text: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(text, ""), _NULL_TEXT, text)


def rejected(text: pa.Array, values: pa.Array) -> pa.Array:
    """The text of values that were given (non-empty) but could not be parsed; null elsewhere."""
    bad = pc.and_(pc.not_equal(text, ""), pc.is_null(values))
    return pc.if_else(bad, text, _NULL_TEXT)


def _only(text: pa.Array, pattern: str) -> pa.Array:
    """``text`` where it matches ``pattern``, null elsewhere."""
    return pc.if_else(pc.match_substring_regex(text, pattern), text, _NULL_TEXT)


def _cast(values: pa.Array, kind: pa.DataType) -> pa.Array | None:
    """Arrow's strict cast, or None if any value does not convert (the caller then takes the slow path)."""
    try:
        return values.cast(kind)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def parse_int(text: pa.Array) -> pa.Array:
    valid = _only(text, _INT)
    fast = _cast(valid, pa.int64())
    if fast is not None:
        return fast
    return pc.replace_substring_regex(valid, r"^\+|\.0*$", "").cast(pa.int64())  # Arrow's cast takes neither


def parse_decimal(text: pa.Array, *, precision: int, scale: int) -> pa.Array:
    """Decimal values of type decimal128(precision, scale), rounded half away from zero to ``scale``."""
    valid = _only(text, _DECIMAL)
    fast = _cast(valid, pa.decimal128(precision, scale))  # fails on too many places or too large a value
    if fast is not None:
        return fast
    keep = scale + 1  # the first dropped digit decides half-away-from-zero rounding; the rest cannot
    valid = pc.replace_substring_regex(valid, r"^([+-]?)\.", r"\10.")  # ".5" -> "0.5" (RE2: \1 then "0.")
    valid = pc.replace_substring_regex(valid, rf"^([+-]?\d*\.\d{{{keep}}})\d+$", r"\1")
    wide = valid.cast(pa.decimal128(38, keep))
    rounded = pc.round(wide, ndigits=scale, round_mode="half_towards_infinity")
    limit = pa.scalar(10 ** (precision - scale), pa.decimal128(38, 0)).cast(pa.decimal128(38, keep))
    rounded = pc.if_else(pc.less(pc.abs(rounded), limit), rounded, pa.scalar(None, rounded.type))
    return rounded.cast(pa.decimal128(precision, scale))


def parse_timestamp(text: pa.Array) -> pa.Array:
    """timestamp[us, UTC]; naive text is UTC."""
    kind = pa.timestamp("us", tz="UTC")
    valid = _only(text, _TIMESTAMP)
    all_utc = pc.sum(pc.ends_with(valid, "Z")).as_py() == len(valid) - valid.null_count
    # Arrow parses "...Z" fastest but fails the whole array on one naive value or impossible day.
    parsed = _cast(valid, kind) if all_utc else None
    if parsed is None:  # pandas' ISO-8601 parser decides row by row
        if (pc.max(pc.utf8_length(valid)).as_py() or 0) > 26:  # room for more than 6 fraction digits
            valid = pc.replace_substring_regex(valid, r"(\.\d{6})\d+", r"\1")
        as_pandas = pd.to_datetime(valid.to_pandas(), format="ISO8601", utc=True, errors="coerce")
        parsed = pa.array(as_pandas.dt.as_unit("us"), type=kind, from_pandas=True)
    # Python datetimes stop at years 1 and 9999, and a UTC offset can step over either end.
    in_range = pc.and_(pc.greater_equal(parsed, _FIRST_INSTANT), pc.less_equal(parsed, _LAST_INSTANT))
    return pc.if_else(in_range, parsed, pa.scalar(None, kind))


def parse_date(text: pa.Array) -> pa.Array:
    """date32 from any of the accepted date formats."""
    iso = _only(text, r"^\d{4}-\d{2}-\d{2}$")
    if iso.null_count == (pc.sum(pc.equal(text, "")).as_py() or 0):  # every value given is yyyy-mm-dd
        fast = _cast(iso, pa.date32())  # fails on a day that does not exist
        if fast is not None:
            return pc.if_else(pc.greater_equal(pc.year(fast), 1), fast, pa.scalar(None, pa.date32()))
    dates = pd.Series(pd.NaT, index=range(len(text)), dtype="datetime64[us]")
    for pattern, strftime in _DATE_FORMATS:  # the pattern decides the format: 11-08-16 is not year 11
        matched = pc.fill_null(pc.match_substring_regex(text, pattern), False).to_numpy(zero_copy_only=False)
        if matched.any():
            subset = pd.Series(text.filter(pa.array(matched)).to_pandas(), dtype=object)
            parsed = pd.to_datetime(subset, format=strftime, errors="coerce").dt.as_unit("us")
            dates[matched] = parsed.to_numpy()
    return pa.array(dates, type=pa.timestamp("us"), from_pandas=True).cast(pa.date32())


def map_values(text: pa.Array, fn: Callable[[str], str | None]) -> pa.Array:
    """``fn`` applied once per distinct value (cheap for low-cardinality columns such as states)."""
    encoded = pc.dictionary_encode(text)
    mapped = pa.array([fn(v) for v in encoded.dictionary.to_pylist()], type=pa.string())
    return mapped.take(encoded.indices)


def canonical_spelling(text: pa.Array, allowed: tuple[str, ...]) -> pa.Array:
    """An allowed value typed in any case or spacing becomes its allowed spelling; others stay as given."""
    by_key = {" ".join(a.split()).lower(): a for a in allowed}
    return map_values(text, lambda v: by_key.get(" ".join(v.split()).lower(), v))


def parse_source(spec: DatasetSpec, text: dict[str, pa.Array]) -> dict[str, pa.Array]:
    """Typed values of every source column from its trimmed text, by the column's spec type.

    Empty text takes the column's ``default`` (parsed like any value) or, with ``default_from``, the
    other column's value; otherwise it is null. Strings with ``allowed`` values get the allowed
    spelling when they match one in any case. For every non-string column, ``<name>__rejected``
    holds the text of values that were given but could not be parsed (null elsewhere).
    """
    values: dict[str, pa.Array] = {}
    for column in spec.source.columns:
        given = text[column.name]
        if column.default is not None:
            given = pc.if_else(pc.equal(given, ""), column.default, given)
        values[column.name] = _parse(given, column, spec.name)
        if column.type != "string":
            values[f"{column.name}__rejected"] = rejected(given, values[column.name])
    for column in spec.source.columns:
        if column.default_from is not None:
            empty = pc.equal(text[column.name], "")
            values[column.name] = pc.if_else(empty, values[column.default_from], values[column.name])
    return values


def parse_as(text: pa.Array, kind: str) -> pa.Array:
    """Trimmed text parsed as spec type ``kind`` (null where empty or unparseable), as a column of it would be."""
    return _parse(text, SourceColumn(name="value", type=kind), "(any)")


def _parse(text: pa.Array, column: SourceColumn, dataset: str) -> pa.Array:
    kind = column.type
    if kind == "string":
        fixed = canonical_spelling(text, column.allowed) if column.allowed else text
        return empty_to_null(fixed)
    if kind in ("int64", "int32"):
        values = parse_int(text)
        if kind == "int32":
            fits = pc.and_(pc.greater_equal(values, -(2**31)), pc.less(values, 2**31))
            values = pc.if_else(fits, values, pa.scalar(None, pa.int64())).cast(pa.int32())
        return values
    if m := re.fullmatch(r"decimal\((\d+),(\d+)\)", kind):
        return parse_decimal(text, precision=int(m.group(1)), scale=int(m.group(2)))
    if kind == "date":
        return parse_date(text)
    if kind == "timestamp":
        return parse_timestamp(text)
    raise ConfigError(f"dataset {dataset!r}: source column {column.name!r} has type {kind!r}, which the "
                      "transform cannot parse from text.",
                      hint="Allowed: string, int32, int64, decimal(p,s), date, timestamp. Fix: change the type.")
