"""transform_partition: every SPEC 1.2 rule, the auto-fixes, derived columns, accounting, superstore.

Each rule has a failing input that proves its code appears and a passing input that proves it does
not. Property tests feed garbage into every column and check that nothing is lost or miscounted.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from hypothesis import HealthCheck, given, settings, strategies as st
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from retail_insights.errors import UsageError
from retail_insights.settings import Settings
from spark_jobs.transform import PartitionResult, normalize_headers, raw_columns, transform_partition
from warehouse.schema import quarantine_schema, silver_schema
from warehouse.spec import load_dataset

INGESTED_AT = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
SUPERSTORE = Settings().superstore_dir  # ../shared/data/superstore unless RETAIL_SUPERSTORE_DIR says otherwise

GOOD: dict[str, str] = {
    "order_id": "O-1", "order_ts": "2026-03-01T10:00:00Z", "updated_at": "", "status": "Shipped",
    "ship_date": "2026-03-03", "channel": "Online", "customer_id": "C-1", "segment": "Consumer",
    "product_id": "P-1", "product_name": "Desk lamp", "category": "Home", "sub_category": "Lighting",
    "city": "Portland", "state": "OR", "quantity": "3", "unit_price": "19.99", "discount": "0.15",
    "unit_cost": "8.50",
}
GOOD_STORE: dict[str, str] = {
    "row_id": "1", "order_id": "CA-2016-152156", "order_date": "2016-11-08", "ship_date": "2016-11-11",
    "ship_mode": "Second Class", "customer_id": "CG-12520", "customer_name": "Claire Gute",
    "segment": "Consumer", "country": "United States", "city": "Henderson", "state": "Kentucky",
    "postal_code": "42420", "region": "South", "product_id": "FUR-BO-10001798", "category": "Furniture",
    "sub_category": "Bookcases", "product_name": "Bush Somerset Collection Bookcase", "sales": "261.96",
    "quantity": "2", "discount": "0", "profit": "41.9136",
}


def raw_frame(rows: list[dict[str, str]], *, base: dict[str, str] = GOOD) -> pd.DataFrame:
    """Rows as readers hand them over: text only, ``source_line`` counting from 2 (after the header)."""
    frame = pd.DataFrame([{**base, **row} for row in rows], dtype=str)
    frame["source_line"] = range(2, len(rows) + 2)
    return frame


def run(rows: list[dict[str, str]], *, dataset: str = "retail_sales", ingested_at: datetime = INGESTED_AT,
        ) -> PartitionResult:
    base = GOOD if dataset == "retail_sales" else GOOD_STORE
    return transform_partition(raw_frame(rows, base=base), dataset=dataset, batch_id="batch-1",
                               source_file="orders.csv", ingested_at=ingested_at)


def clean_row(result: PartitionResult) -> dict:
    assert result.clean.num_rows == 1, result.quarantine.to_pylist()
    return result.clean.to_pylist()[0]


def codes_of(result: PartitionResult) -> list[str]:
    return result.quarantine.column("reason_codes").to_pylist()[0] if result.quarantine.num_rows else []


class Catalog:
    """Many one-row cases through one transform call (GE costs ~0.5 s a call): outcome by case name."""

    def __init__(self, cases: dict[str, dict[str, str]], *, dataset: str = "retail_sales") -> None:
        self.result = run(list(cases.values()), dataset=dataset)
        line_of = {name: line for line, name in enumerate(cases, start=2)}
        clean = {r["source_line"]: r for r in self.result.clean.to_pylist()}
        held = {r["source_line"]: r for r in self.result.quarantine.to_pylist()}
        self.clean = {name: clean[line] for name, line in line_of.items() if line in clean}
        self.quarantined = {name: held[line] for name, line in line_of.items() if line in held}


CASES: dict[str, dict[str, str]] = {}  # filled next to the tests that read them
STORE_CASES: dict[str, dict[str, str]] = {}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog(CASES)


@pytest.fixture(scope="module")
def store_catalog() -> Catalog:
    return Catalog(STORE_CASES, dataset="superstore")


# --- critical rules (SPEC 1.2): the row goes to quarantine with its code --------------------------

CRITICAL = [  # code, column, failing values, passing values
    ("MISSING_ORDER_ID", "order_id", ["", "   "], ["O-2", " O-3 "]),
    ("BAD_ORDER_TS", "order_ts", ["", "yesterday", "now", "2026-02-30T10:00:00Z", "2026-03-01T25:00:00Z",
                                  "03/01/2026 10:00"], ["2026-03-01T10:00:00+02:00", "2026-03-01 10:00:00",
                                                        "2026-03-01"]),
    ("BAD_QUANTITY", "quantity", ["", "2.5", "0", "-1", "three", "1,000", "1000001", "١٢"],
     ["1", "3.0", " 7 ", "1000000"]),
    ("BAD_PRICE", "unit_price", ["", "abc", "0", "-1.00", "1e3", "$5", "1000000000.01"],
     ["19.99", "0.01", ".5", "1000000000"]),
    ("BAD_DISCOUNT", "discount", ["abc", "0.95", "-0.1", "90%"], ["", "0", "0.9", "0.15"]),
    ("BAD_COST", "unit_cost", ["abc", "-1", "-0.01"], ["", "0", "12.3456"]),
    ("BAD_STATE", "state", ["", "Atlantis", "XX", "Puerto Rico"],
     ["ca", "California", "new  york", "DC", "district of columbia", "WY"]),
    ("BAD_STATUS", "status", ["", "Lost", "Canceled", "shipped!"], ["shipped", "CANCELLED", " pending "]),
    ("SHIP_BEFORE_ORDER", "ship_date", ["2026-02-28"], ["2026-03-01", "2026-03-09", ""]),
    ("BAD_UPDATED_AT", "updated_at", ["tomorrow", "2026-13-01T00:00:00Z"], ["", "2026-03-02T00:00:00Z"]),
    ("BAD_SHIP_DATE", "ship_date", ["soon", "2026-02-30"], ["", "3/4/2026"]),
]


CASES.update({f"{code}:{kind}:{value}": {column: value} for code, column, bad, good in CRITICAL
              for kind, values in (("bad", bad), ("good", good)) for value in values})


@pytest.mark.parametrize(("code", "column", "bad", "good"), CRITICAL, ids=[c[0] for c in CRITICAL])
def test_critical_rule_quarantines_failing_rows_and_keeps_passing_ones(catalog, code, column, bad, good):
    for value in bad:
        row = catalog.quarantined[f"{code}:bad:{value}"]
        assert code in row["reason_codes"] and row[column] == value  # the raw text, as it came
    for value in good:
        assert f"{code}:good:{value}" in catalog.clean, catalog.quarantined.get(f"{code}:good:{value}")
    assert catalog.result.quarantined_by_code[code] >= len(bad)


def test_row_breaking_several_rules_carries_every_code_and_reason():
    result = run([{"order_id": " ", "unit_price": "free", "state": "Narnia", "status": "lost"}])
    assert codes_of(result) == ["BAD_PRICE", "BAD_STATE", "BAD_STATUS", "MISSING_ORDER_ID"]
    reasons = result.quarantine.column("reasons").to_pylist()[0]
    assert reasons.startswith("MISSING_ORDER_ID: order_id is empty; BAD_PRICE: unit_price is missing or not numeric")
    assert "BAD_STATE: " in reasons and "BAD_STATUS: status is not Pending" in reasons
    assert result.quarantined_by_code == {"BAD_PRICE": 1, "BAD_STATE": 1, "BAD_STATUS": 1, "MISSING_ORDER_ID": 1}


def test_quarantine_keeps_raw_text_untrimmed_with_lineage():
    result = run([{}, {"order_id": "", "product_name": "  Lamp  "}])
    row = result.quarantine.to_pylist()[0]
    assert row["product_name"] == "  Lamp  " and row["quantity"] == "3" and row["source_line"] == 3
    assert (row["batch_id"], row["source_file"], row["ingested_at"]) == ("batch-1", "orders.csv", INGESTED_AT)
    assert (row["year"], row["month"]) == (2026, 3)  # quarantine is partitioned by arrival


# --- warnings: the row is kept and carries the codes --------------------------------------------

WARNINGS = [  # code, failing overrides, passing overrides
    ("HIGH_REVENUE", {"quantity": "2", "unit_price": "50000.01", "discount": "0"},
     {"quantity": "2", "unit_price": "50000", "discount": "0"}),
    ("OLD_ORDER", {"order_ts": "2016-03-14T23:59:59Z", "ship_date": ""},
     {"order_ts": "2016-03-15T00:00:00Z", "ship_date": ""}),
    ("FUTURE_ORDER", {"order_ts": "2026-03-15T12:00:01Z", "ship_date": ""},
     {"order_ts": "2026-03-15T12:00:00Z", "ship_date": ""}),
]


CASES.update({f"{code}:{kind}": case for code, bad, good in WARNINGS for kind, case in (("bad", bad), ("good", good))})


@pytest.mark.parametrize(("code", "bad", "good"), WARNINGS, ids=[w[0] for w in WARNINGS])
def test_warning_rule_keeps_the_row_and_lists_its_code(catalog, code, bad, good):
    assert catalog.clean[f"{code}:bad"]["warnings"] == [code]
    assert catalog.clean[f"{code}:good"]["warnings"] == []
    assert catalog.result.validation["warnings_by_code"][code] >= 1


def test_old_order_cutoff_on_29_february_is_28_february_ten_years_earlier():
    leap = datetime(2028, 2, 29, 9, 0, tzinfo=UTC)
    result = run([{"order_ts": "2018-02-27T00:00:00Z"}, {"order_ts": "2018-02-28T00:00:00Z"}], ingested_at=leap)
    assert result.clean["warnings"].to_pylist() == [["OLD_ORDER"], []]


CASES["two warnings"] = {"order_ts": "2027-01-01T00:00:00Z", "ship_date": "", "quantity": "10",
                         "unit_price": "20000", "discount": "0"}


def test_warnings_are_sorted_and_all_listed(catalog):
    assert catalog.clean["two warnings"]["warnings"] == ["FUTURE_ORDER", "HIGH_REVENUE"]
    assert catalog.result.warning_rows == len([r for r in catalog.clean.values() if r["warnings"]])


# --- auto-fixes ----------------------------------------------------------------------------------


CASES["padded"] = {k: f" \t{v}\u00a0 " for k, v in GOOD.items() if v}
CASES["plain"] = {}


def test_whitespace_is_trimmed_everywhere(catalog):
    padded, plain = catalog.clean["padded"], catalog.clean["plain"]
    assert {**padded, "source_line": 0} == {**plain, "source_line": 0}


CASES["blank category"] = {"category": "  "}


def test_empty_category_becomes_unknown(catalog):
    assert catalog.clean["blank category"]["category"] == "Unknown"


STATES = [("or", "OR"), ("Oregon", "OR"), ("NEW YORK", "NY"), ("district of columbia", "DC"),
          ("Washington DC", "DC")]
STATUSES = [("shipped", "Shipped"), ("DELIVERED", "Delivered"), ("pEnDiNg", "Pending"), ("cancelled", "Cancelled")]
CASES.update({f"state:{given}": {"state": given} for given, _ in STATES})
CASES.update({f"status:{given}": {"status": given} for given, _ in STATUSES})


@pytest.mark.parametrize(("given", "code"), STATES)
def test_state_names_and_lower_case_codes_become_usps_codes(catalog, given, code):
    assert catalog.clean[f"state:{given}"]["state"] == code


@pytest.mark.parametrize(("given", "fixed"), STATUSES)
def test_status_is_title_cased(catalog, given, fixed):
    assert catalog.clean[f"status:{given}"]["status"] == fixed


CASES["shouting"] = {"channel": "ONLINE", "segment": "home  office"}
CASES["naive"] = {"order_ts": "2026-03-01T10:00:00", "updated_at": "2026-03-01T12:30:00.1234567+02:00"}
CASES["blanks"] = {"customer_id": "", "sub_category": " ", "ship_date": "", "status": "Pending"}


def test_channel_and_segment_get_their_allowed_spelling(catalog):
    row = catalog.clean["shouting"]
    assert (row["channel"], row["segment"]) == ("Online", "Home Office")


def test_missing_updated_at_is_order_ts(catalog):
    row = catalog.clean["plain"]
    assert row["updated_at"] == row["order_ts"] == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def test_naive_timestamps_are_utc_and_offsets_are_converted(catalog):
    row = catalog.clean["naive"]
    assert row["order_ts"] == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert row["updated_at"] == datetime(2026, 3, 1, 10, 30, 0, 123456, tzinfo=UTC)


def test_empty_optional_text_is_null_in_clean_rows(catalog):
    row = catalog.clean["blanks"]
    assert (row["customer_id"], row["sub_category"], row["ship_date"]) == (None, None, None)


# --- derived columns (SPEC 1.3) ------------------------------------------------------------------


MONEY = [
    ("3", "19.99", "0.15", "8.50", "50.97", "25.50"),      # 50.9745
    ("1", "1.005", "0", "0.335", "1.01", "0.34"),          # halves round away from zero (float gives 1.00)
    ("1", "0.05", "0.1", "0", "0.05", "0.00"),             # 0.045 -> 0.05 (banker's rounding gives 0.04)
    ("7", "0.10", "0.5", "0.0715", "0.35", "0.50"),        # 0.35 exactly; 0.5005 -> 0.50
    ("1000000", "1000000000", "0", "1000000000", "1000000000000000.00", "1000000000000000.00"),
    ("2", "10.00", "0.9", "12.00", "2.00", "24.00"),
]
CASES.update({f"money:{m}": {"quantity": m[0], "unit_price": m[1], "discount": m[2], "unit_cost": m[3]}
              for m in MONEY})


@pytest.mark.parametrize(("quantity", "price", "discount", "cost", "revenue", "total_cost"), MONEY)
def test_money_is_decimal_rounded_half_away_from_zero(catalog, quantity, price, discount, cost, revenue,
                                                      total_cost):
    row = catalog.clean[f"money:{(quantity, price, discount, cost, revenue, total_cost)}"]
    assert row["revenue"] == Decimal(revenue) and row["cost"] == Decimal(total_cost)
    assert row["profit"] == Decimal(revenue) - Decimal(total_cost)


CASES["long decimals"] = {"unit_price": "19.99995", "discount": "0.90004"}


def test_extra_decimal_places_round_to_the_column_scale_before_checks(catalog):
    row = catalog.clean["long decimals"]
    assert row["unit_price"] == Decimal("20.0000") and row["discount"] == Decimal("0.9000")


ORDER_DATES = [
    ("2026-01-05T23:30:00-05:00", date(2026, 1, 6)),
    ("2025-12-31T23:30:00-01:00", date(2026, 1, 1)),
    ("2026-01-01T00:30:00+01:00", date(2025, 12, 31)),
]
CASES.update({f"order_ts:{ts}": {"order_ts": ts, "ship_date": ""} for ts, _ in ORDER_DATES})


@pytest.mark.parametrize(("order_ts", "order_date"), ORDER_DATES)
def test_order_date_year_and_month_are_taken_in_utc(catalog, order_ts, order_date):
    row = catalog.clean[f"order_ts:{order_ts}"]
    assert (row["order_date"], row["year"], row["month"]) == (order_date, order_date.year, order_date.month)


REGIONS = [("CA", "West"), ("DC", "South"), ("NY", "Northeast"), ("IL", "Midwest"), ("texas", "South")]
CASES.update({f"region:{state}": {"state": state} for state, _ in REGIONS})


@pytest.mark.parametrize(("state", "region"), REGIONS)
def test_region_is_the_census_region_of_the_state(catalog, state, region):
    assert catalog.clean[f"region:{state}"]["region"] == region


# --- accounting, schema, lineage -----------------------------------------------------------------


def test_every_input_row_is_clean_or_quarantined_with_exact_schemas():
    rows = [{}, {"order_id": ""}, {"quantity": "x"}, {"order_id": "O-2"}, {"state": "??", "discount": "2"}]
    result = run(rows)
    spec = load_dataset("retail_sales").spec
    assert result.clean.schema == silver_schema(spec) and result.quarantine.schema == quarantine_schema(spec)
    assert result.input_rows == 5 == result.clean.num_rows + result.quarantine.num_rows
    assert sorted(result.clean["source_line"].to_pylist() + result.quarantine["source_line"].to_pylist()) == [
        2, 3, 4, 5, 6]
    assert result.validation["quarantined_rows"] == 3 and result.validation["clean_rows"] == 2


def test_clean_rows_are_not_deduplicated_and_keep_lineage():
    result = run([{}, {}])
    assert result.clean["source_line"].to_pylist() == [2, 3]
    assert set(result.clean["batch_id"].to_pylist()) == {"batch-1"}
    assert set(result.clean["ingested_at"].to_pylist()) == {INGESTED_AT}


def test_the_transform_is_pure():
    rows = [{}, {"order_id": ""}, {"order_ts": "2030-01-01T00:00:00Z", "ship_date": ""}]
    first, second = run(rows), run(rows)
    assert first.clean.equals(second.clean) and first.quarantine.equals(second.quarantine)
    assert first.validation == second.validation


def test_an_empty_partition_gives_empty_tables():
    result = transform_partition(raw_frame([{}]).iloc[:0], dataset="retail_sales", batch_id="b",
                                 source_file="f.csv", ingested_at=INGESTED_AT)
    assert (result.input_rows, result.clean.num_rows, result.quarantine.num_rows) == (0, 0, 0)


def test_validation_summary_names_rules_and_sample_source_lines():
    summary = run([{}, {"unit_price": "abc"}]).validation
    rule = next(r for r in summary["rules"] if r["code"] == "BAD_PRICE" and r["unexpected_count"])
    assert rule["expectation"] == "expect_column_values_to_not_be_null"
    assert rule["samples"] == [{"source_line": 3, "value": None}]
    assert (summary["input_rows"], summary["dataset"], summary["batch_id"]) == (2, "retail_sales", "batch-1")


def test_missing_source_line_is_a_usage_error():
    with pytest.raises(UsageError, match="no 'source_line' column"):
        transform_partition(raw_frame([{}]).drop(columns="source_line"), dataset="retail_sales",
                            batch_id="b", source_file="f.csv", ingested_at=INGESTED_AT)


def test_an_absent_optional_column_reads_as_empty():
    frame = raw_frame([{}]).drop(columns=["updated_at", "category"])
    row = clean_row(transform_partition(frame, dataset="retail_sales", batch_id="b", source_file="f.jsonl",
                                        ingested_at=INGESTED_AT))
    assert row["category"] == "Unknown" and row["updated_at"] == row["order_ts"]


def test_arrow_backed_columns_from_the_stream_decoder_work():
    frame = pa.Table.from_pandas(raw_frame([{}, {"order_id": ""}]), preserve_index=False)
    frame = frame.to_pandas(types_mapper=pd.ArrowDtype)
    result = transform_partition(frame, dataset="retail_sales", batch_id="s", source_file="kafka://t",
                                 ingested_at=INGESTED_AT)
    assert (result.clean.num_rows, result.quarantine.num_rows) == (1, 1)
    assert result.quarantine["source_line"].to_pylist() == [3]


def test_naive_ingestion_time_is_utc():
    naive = run([{"order_ts": "2026-03-15T12:00:01Z", "ship_date": ""}], ingested_at=datetime(2026, 3, 15, 12))
    assert clean_row(naive)["warnings"] == ["FUTURE_ORDER"]


def test_raw_columns_are_the_spec_source_columns():
    assert raw_columns(load_dataset("retail_sales").spec) == list(GOOD)


# --- superstore (SPEC 4) ---------------------------------------------------------------------------

STORE_RULES = [  # code, column, failing values, passing values
    ("BAD_ROW_ID", "row_id", ["", "x", "1.5"], ["7", "9994"]),
    ("MISSING_ORDER_ID", "order_id", [""], ["US-2015-108966"]),
    ("BAD_ORDER_DATE", "order_date", ["", "2016-02-30", "31/12/2016", "11-8-2016"],
     ["2016-11-08", "11/8/2016", "11-08-16"]),
    ("BAD_SHIP_DATE", "ship_date", ["next week", "13/13/2016"], ["", "11/11/2016", "11-11-16"]),
    ("SHIP_BEFORE_ORDER", "ship_date", ["2016-11-07", "11/7/2016"], ["2016-11-08"]),
    ("BAD_SALES", "sales", ["", "n/a"], ["0.444", "-1"]),
    ("BAD_QUANTITY", "quantity", ["", "2.5"], ["14"]),
    ("BAD_DISCOUNT", "discount", ["", "20%"], ["0.8"]),
    ("BAD_PROFIT", "profit", ["", "-"], ["-6599.978", "0"]),
]


STORE_CASES.update({f"{code}:{kind}:{value}": {column: value} for code, column, bad, good in STORE_RULES
                    for kind, values in (("bad", bad), ("good", good)) for value in values})


@pytest.mark.parametrize(("code", "column", "bad", "good"), STORE_RULES, ids=[c[0] for c in STORE_RULES])
def test_superstore_rule_quarantines_failing_rows_and_keeps_passing_ones(store_catalog, code, column, bad, good):
    for value in bad:
        row = store_catalog.quarantined[f"{code}:bad:{value}"]
        assert code in row["reason_codes"] and row[column] == value
    for value in good:
        assert f"{code}:good:{value}" in store_catalog.clean, store_catalog.quarantined.get(f"{code}:good:{value}")


STORE_CASES["Kentucky"] = {"state": " Kentucky ", "region": "South", "ship_date": "11/11/2016"}
POSTAL = [("5408", "05408"), ("501", "00501"), ("42420", "42420"), ("", None)]
STORE_CASES.update({f"postal:{given}": {"postal_code": given} for given, _ in POSTAL})


def test_superstore_keeps_its_own_state_and_region_and_derives_days_to_ship(store_catalog):
    row = store_catalog.clean["Kentucky"]
    assert (row["state"], row["region"], row["year"], row["month"], row["days_to_ship"]) == (
        "Kentucky", "South", 2016, 11, 3)


@pytest.mark.parametrize(("given", "fixed"), POSTAL)
def test_superstore_postal_codes_regain_their_leading_zeros(store_catalog, given, fixed):
    assert store_catalog.clean[f"postal:{given}"]["postal_code"] == fixed


def read_superstore(name: str) -> pd.DataFrame:
    frame = pd.read_csv(SUPERSTORE / name, dtype=str, keep_default_na=False)
    frame["source_line"] = range(2, len(frame) + 2)
    return normalize_headers(frame, load_dataset("superstore").spec)


def test_both_superstore_files_give_the_same_clean_table():
    tables = []
    for name in ("superstore_2014_2017.csv", "superstore_2014_2017_messy_mixed_dates.csv"):
        result = transform_partition(read_superstore(name), dataset="superstore", batch_id="ss",
                                     source_file=name, ingested_at=INGESTED_AT)
        assert result.quarantine.num_rows == 0 and result.input_rows == 9994
        tables.append(result.clean.drop_columns(["source_file"]).sort_by("row_id"))
    clean, messy = tables
    assert clean.num_rows == 9994 and clean.equals(messy)
    assert round(pc.sum(clean["sales"]).as_py(), 2) == Decimal("2297200.86")
    assert round(pc.sum(clean["profit"]).as_py(), 2) == Decimal("286397.02")
    assert pc.min(clean["order_date"]).as_py() == date(2014, 1, 3)


# --- properties: garbage in any column never crashes, loses or miscounts a row ---------------------

garbage = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
    st.sampled_from(["", " ", "\t", "NaN", "None", "null", "-0", "1e309", "9" * 40, "0x1F", "\u00a0", "٣",
                     "2026-02-29T00:00:00Z", "9999-12-31T23:59:59-05:00", "0000-01-01", "12-31-99", "+.5"]),
    st.text(min_size=1, max_size=3).map(lambda s: s * 5_000),  # huge fields
)


@st.composite
def garbage_rows(draw: st.DrawFn, columns: list[str]) -> list[dict[str, str]]:
    rows = []
    for _ in range(draw(st.integers(1, 6))):
        broken = draw(st.lists(st.sampled_from(columns), max_size=4, unique=True))
        rows.append({column: draw(garbage) for column in broken})
    return rows


def assert_nothing_lost(rows: list[dict[str, str]], *, dataset: str, base: dict[str, str]) -> None:
    frame = raw_frame(rows, base=base)
    result = transform_partition(frame, dataset=dataset, batch_id="b", source_file="f.csv", ingested_at=INGESTED_AT)
    assert result.clean.num_rows + result.quarantine.num_rows == result.input_rows == len(rows)
    quarantined = result.quarantine.to_pylist()
    for row in quarantined:  # raw text kept exactly, every row has a reason
        source = frame.iloc[row["source_line"] - 2]
        assert all(row[c] == source[c] for c in base) and row["reason_codes"] and row["reasons"]
    for row in result.clean.to_pylist():  # kept text is the trimmed input
        source = frame.iloc[row["source_line"] - 2]
        assert row["product_name"] == (source["product_name"].strip() or None)
        assert row["order_id"] == source["order_id"].strip()
    lines = result.clean["source_line"].to_pylist() + [r["source_line"] for r in quarantined]
    assert sorted(lines) == list(range(2, len(rows) + 2))
    assert sum(result.quarantined_by_code.values()) == sum(len(r["reason_codes"]) for r in quarantined)


SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large]


@settings(max_examples=30, deadline=None, suppress_health_check=SLOW_OK)
@given(garbage_rows(list(GOOD)))
def test_garbage_never_crashes_loses_or_miscounts_a_row(rows):
    assert_nothing_lost(rows, dataset="retail_sales", base=GOOD)


@settings(max_examples=15, deadline=None, suppress_health_check=SLOW_OK)
@given(garbage_rows(list(GOOD_STORE)))
def test_superstore_garbage_never_crashes_loses_or_miscounts_a_row(rows):
    assert_nothing_lost(rows, dataset="superstore", base=GOOD_STORE)
