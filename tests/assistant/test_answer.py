"""The answer sentence and the chart rules, from result tables made by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from assistant.answer import Answer
from assistant.sentence import fmt, sentence
from assistant.charts import chart_for
from assistant.intent import Filter, Intent, TimeWindow

MARCH = TimeWindow(date(2024, 3, 1), date(2024, 3, 31), "March 2024")
FEB = TimeWindow(date(2024, 2, 1), date(2024, 2, 29), "February 2024")


def test_money_is_rounded_to_cents_and_shares_are_percent() -> None:
    assert fmt(Decimal("1234.565"), "currency") == "$1,234.57"
    assert fmt(-5, "currency") == "-$5.00"
    assert fmt(0.12345, "percent") == "12.35%"
    assert fmt(1234, "integer") == "1,234"
    assert fmt(8.7, "integer") == "8.70"   # an average of a count keeps its fraction


def test_total_sentence_states_filters_and_dates() -> None:
    intent = Intent("retail_sales", ("revenue",), "total", filters=(Filter("state", ("TX",)),), time=MARCH)
    text = sentence(intent, ("revenue",), ((Decimal("1000.456"),),))
    assert text == "Revenue for state TX between 2024-03-01 and 2024-03-31 (March 2024) was $1,000.46."


def test_compare_sentence_gives_absolute_and_percent_change() -> None:
    intent = Intent("retail_sales", ("orders",), "compare_periods", time=MARCH, compare_time=FEB)
    text = sentence(intent, ("orders", "orders_compare", "orders_change", "orders_pct_change"),
                    ((120, 100, 20, 0.2),))
    assert "120" in text and "100" in text and "up 20, +20.00%" in text and "2024-02-29" in text


def test_empty_result_says_no_data_instead_of_zero() -> None:
    intent = Intent("retail_sales", ("revenue",), "total", time=MARCH)
    assert sentence(intent, ("revenue",), ()).startswith("No data matched")


def test_single_number_has_no_chart_and_series_get_lines() -> None:
    total = Intent("retail_sales", ("revenue",), "total", time=MARCH)
    assert chart_for(total, ("revenue",), ((1.0,),)) is None
    trend = Intent("retail_sales", ("revenue",), "trend", time=MARCH, grain="day")
    spec = chart_for(trend, ("period", "revenue"), ((date(2024, 3, 1), 1.0), (date(2024, 3, 2), 2.0)))
    assert spec["mark"]["type"] == "line" and spec["encoding"]["x"]["type"] == "temporal"
    assert spec["data"]["values"][0] == {"period": "2024-03-01", "revenue": 1.0}


def test_many_shares_become_bars() -> None:
    share = Intent("retail_sales", ("revenue",), "share", dimensions=("state",))
    rows = tuple((f"S{i}", float(i), 0.01) for i in range(12))
    assert chart_for(share, ("state", "revenue", "share"), rows)["mark"] == "bar"


def test_answer_round_trips_through_its_dict() -> None:
    answer = Answer(status="answered", answer="x", columns=("a",), rows=((1.5,),), params=(date(2024, 1, 1),))
    again = Answer.from_dict(answer.to_dict())
    assert again.rows == ((1.5,),) and again.params == ("2024-01-01",) and again.columns == ("a",)
