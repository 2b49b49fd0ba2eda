"""The read-back of a model's work against the question (``assistant.llm.readback``).

Real parts: the router reads each question (no model is involved: the intents and queries here are what
a model could reply); the stage test scripts the model's replies through litellm's ``mock_response``,
because no provider is reachable from the test machines.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from assistant.intent import Condition, Filter, Intent, TimeWindow
from assistant.llm.intent_path import IntentPath
from assistant.llm.readback import intent_disagreements, sql_disagreements
from assistant.router import Router
from tests.assistant.llm.llm_helpers import CHEAP, RecordingRunner, make_stage, reply
from tests.assistant.llm.test_llm_intent import fit

AS_OF = date(2024, 7, 1)
MARCH = TimeWindow(date(2024, 3, 1), date(2024, 3, 31), "March 2024")
CA_MARCH = Intent("retail_sales", ("revenue",), "total", filters=(Filter("state", ("CA",)),), time=MARCH)


def route(question: str):
    return Router().parse(question, dataset="retail_sales", as_of=AS_OF)


def test_an_intent_that_says_what_the_question_says_agrees() -> None:
    assert intent_disagreements(CA_MARCH, route("How much cash did California bring in during March 2024?")) == []


@pytest.mark.parametrize("intent, says", [
    (replace(CA_MARCH, filters=()), "names state CA"),                                   # a member left out
    (replace(CA_MARCH, filters=(Filter("state", ("CA",)), Filter("channel", ("Online",)))), "channel Online"),
    (replace(CA_MARCH, time=TimeWindow(date(2024, 1, 1), date(2024, 3, 31), "Q1")), "outside the question's"),
    (replace(CA_MARCH, time=None), "is not in the model's reading"),                     # the period dropped
    (replace(CA_MARCH, operation="breakdown", dimensions=("category",)), "splits by category"),
    (replace(CA_MARCH, metrics=("profit",)), "names revenue"),                           # another metric
])
def test_an_intent_that_leaves_out_or_adds_something_disagrees(intent: Intent, says: str) -> None:
    problems = intent_disagreements(intent, route("How much cash did California bring in during March 2024?"))
    assert any(says in p for p in problems), problems


def test_thresholds_and_counts_must_be_the_question_s_own_numbers() -> None:
    topped = route("which states topped 50,000 in revenue in 2023")
    year = TimeWindow(date(2023, 1, 1), date(2023, 12, 31), "2023")
    without = Intent("retail_sales", ("revenue",), "breakdown", dimensions=("state",), time=year)
    assert any("50000" in p for p in intent_disagreements(without, topped))
    made_up = replace(without, conditions=(Condition("revenue", ">", 5000.0),))
    assert any("5000" in p for p in intent_disagreements(made_up, topped))
    right = replace(without, conditions=(Condition("revenue", ">", 50000.0),))
    assert not any("50000" in p or "threshold" in p for p in intent_disagreements(right, topped))
    top = Intent("retail_sales", ("revenue",), "top_n", dimensions=("state",), time=year, top_n=5)
    assert any("top 5" in p for p in intent_disagreements(top, route("the states with the most revenue in 2023")))
    assert intent_disagreements(top, route("the 5 states with the most revenue in 2023")) == []


def test_a_query_must_name_the_members_periods_and_amounts_the_question_names() -> None:
    question = route("How much cash did California bring in during March 2024?")
    good = ("SELECT SUM(revenue) FROM sales WHERE state = 'CA' AND order_date BETWEEN DATE '2024-03-01' "
            "AND DATE '2024-03-31'")
    assert sql_disagreements(good, question) == []
    problems = sql_disagreements("SELECT SUM(revenue) FROM sales WHERE order_date >= DATE '2023-03-01'", question)
    assert any("'CA'" in p for p in problems) and any("period" in p for p in problems)
    over = route("how many orders above $250 in 2023")
    assert any("250" in p for p in sql_disagreements("SELECT COUNT(*) FROM sales WHERE year = 2023", over))
    assert sql_disagreements("SELECT COUNT(*) FROM sales WHERE year = 2023 AND revenue > 250", over) == []


def test_a_disagreeing_intent_goes_to_the_sql_path_and_never_answers_by_itself(runner: RecordingRunner) -> None:
    good_sql = ("SELECT SUM(revenue) AS revenue FROM sales WHERE status <> 'Cancelled' AND state = 'CA' "
                "AND order_date BETWEEN DATE '2024-03-01' AND DATE '2024-03-31'")
    stage = make_stage(runner, {CHEAP: [fit(filters=[]), reply(good_sql, "Revenue of California in March 2024.")]},
                       intent_path=IntentPath(runner_for=lambda dataset: runner))
    result = stage.answer("How much cash did California bring in during March 2024?", dataset="retail_sales",
                          as_of=AS_OF)
    assert result.status == "answered" and result.sql == runner.executed[-1] and len(runner.executed) == 1
    assert "CA" in result.sql and result.path == "sql" and "disagrees" in (result.intent_note or "")


def test_a_grain_or_a_date_column_the_question_does_not_say_disagrees() -> None:
    question = route("in the first half of 2024, what did a typical checkout ring up to, region by region")
    h1 = TimeWindow(date(2024, 1, 1), date(2024, 6, 30), "H1 2024")
    monthly = Intent("retail_sales", ("revenue",), "trend", dimensions=("region",), time=h1, grain="month")
    assert any("splits by month" in p for p in intent_disagreements(monthly, question))
    shipped = replace(monthly, operation="breakdown", grain=None,
                      time=TimeWindow(h1.start, h1.end, "H1 2024", "ship_date"))
    assert any("ship_date" in p for p in intent_disagreements(shipped, question))


def test_a_ranking_question_needs_a_ranking() -> None:
    question = route("which month of 2023 gave us the biggest revenue haul")
    year = TimeWindow(date(2023, 1, 1), date(2023, 12, 31), "2023")
    series = Intent("retail_sales", ("revenue",), "trend", time=year, grain="month")
    assert any("ranks" in p for p in intent_disagreements(series, question))


def test_the_local_model_writes_no_sql_unless_told_to(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings only: the stage built for the bundled local model has its SQL path off by default."""
    from assistant.llm.stage import LLMStage
    from retail_insights.settings import get_settings

    monkeypatch.setenv("RETAIL_LLM__MODEL", "local")
    get_settings.cache_clear()
    try:
        assert LLMStage.from_settings(get_settings(), runner_for=lambda dataset: None, examples=None).sql_path is False
        monkeypatch.setenv("RETAIL_LLM__LOCAL__SQL_PATH", "true")
        get_settings.cache_clear()
        assert LLMStage.from_settings(get_settings(), runner_for=lambda dataset: None, examples=None).sql_path is True
    finally:
        get_settings.cache_clear()
