"""Conversations through the whole pipeline: what an unanswered message does to the turns after it,
and follow-ups that divide the last answer ("per order instead", "per day?")."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.conversation import Turn
from assistant.intent import Intent

AS_OF = date(2018, 1, 1)


@pytest.fixture
def chat(warehouse: object, catalog_runner: object):
    from tests.assistant.warehouse_builder import local_assistant

    assistant = local_assistant(catalog_runner)

    def ask(*questions: str):
        answers, conversation = [], None
        for question in questions:
            answer = assistant.answer(question, dataset="superstore", as_of=AS_OF, conversation_id=conversation)
            conversation = answer.conversation_id
            answers.append(answer)
        return answers
    return ask


def test_an_edit_after_an_unanswered_edit_asks_instead_of_dropping_it(chat) -> None:
    first, lost, then = chat("orders by segment in 2017", "median instead", "by category")
    assert first.status == "answered" and lost.status == "clarify"
    assert then.status == "clarify" and "median instead" in then.answer


def test_a_question_that_stands_on_its_own_is_answered_after_an_unanswered_one(chat) -> None:
    *_, then = chat("orders by segment in 2017", "median instead", "profit by region in 2016")
    assert then.status == "answered" and then.columns == ("region", "profit")


def test_moving_on_from_a_clarification_edits_the_last_answer_and_says_what_was_not_applied(chat) -> None:
    first, lost, then = chat("sales by region in 2017", "for narnia", "ok, just the west then")
    assert lost.status == "clarify"
    assert then.status == "answered" and then.interpretation["follow_up"]["not_applied"] == "for narnia"
    assert then.rows == tuple(r for r in first.rows if r[0] == "West")


def test_per_order_instead_divides_the_last_metric_by_orders(chat) -> None:
    total, per_order = chat("sales in California in 2016", "per order instead")
    orders, = chat("orders in California in 2016")
    assert per_order.status == "answered"
    assert per_order.rows[0][-1] == pytest.approx(total.rows[0][0] / orders.rows[0][0])


def test_a_bare_per_day_after_one_number_is_its_daily_average(chat) -> None:
    total, daily = chat("sales in November 2017", "per day?")
    assert daily.status == "answered" and daily.rows[0][0] == pytest.approx(total.rows[0][0] / 30)


def test_per_day_after_a_split_asks(chat) -> None:
    _, daily = chat("sales by region in November 2017", "per day?")
    assert daily.status == "clarify"


def test_leaving_one_member_out_of_a_list_keeps_the_list(chat) -> None:
    _, without = chat("sales in California, Washington and Oregon in 2017", "w/o Oregon")
    both, = chat("sales in California and Washington together in 2017")
    assert without.status == "answered" and without.rows == both.rows


def test_a_turn_remembers_an_unanswered_message_even_before_any_answer() -> None:
    turn = Turn("superstore", "sales in narnia", None, lost=("sales in narnia",))
    assert Turn.from_json(turn.to_json()) == turn
    kept = Turn("superstore", "sales in 2016", Intent("superstore", ("sales",), "total"), lost=("in euros?", "for narnia"))
    assert Turn.from_json(kept.to_json()) == kept


def test_go_back_to_the_first_one_answers_the_conversations_first_question_again(chat) -> None:
    first, *_, back = chat("sales by segment in 2017", "just the west", "and the year before?",
                           "go back to the first one")
    assert back.status == "answered" and back.rows == first.rows
    assert back.interpretation["follow_up"]["changed"] == ["back to the first"]


def test_compare_with_another_member_puts_the_two_side_by_side_in_the_period_named(chat) -> None:
    texas, _, both = chat("sales in Texas in 2016", "how does that compare with Florida",
                          "and the both of them side by side in 2017")
    florida_2017, texas_2017 = chat("sales in Florida in 2017")[0], chat("sales in Texas in 2017")[0]
    assert both.status == "answered" and both.interpretation["operation"] == "compare_values"
    assert {r[0]: r[1] for r in both.rows} == pytest.approx({"Texas": texas_2017.rows[0][0],
                                                             "Florida": florida_2017.rows[0][0]})
    assert texas.rows[0][0] != texas_2017.rows[0][0]


def test_yoy_after_a_quarter_compares_it_with_the_same_quarter_a_year_before(chat) -> None:
    _, yoy = chat("sales in Q2 2017", "yoy chg")
    assert yoy.interpretation["compare_time"]["start"] == "2016-04-01"


def test_flip_it_to_profit_swaps_the_measure_and_keeps_the_ranking(chat) -> None:
    _, flipped, ascending = chat("top 3 states by sales in 2017", "flip it to profit", "flip it to ascending")
    assert flipped.interpretation["metrics"] == ["profit"] and flipped.interpretation["order"] == "desc"
    assert ascending.interpretation["order"] == "asc"
