"""Follow-ups edit the last answered intent: what they name changes, the rest carries over."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.followup import FollowUp, markers, reads_as_follow_up
from assistant.intent import Filter, Intent
from assistant.router import Router

AS_OF = date(2018, 1, 1)


def intent(question: str) -> Intent:
    route = Router().parse(question, dataset="superstore", as_of=AS_OF)
    assert route.complete, route.reason
    return route.intent


def follow(previous: str, question: str) -> Intent:
    marked = markers(question)
    route = Router().parse(marked.text, dataset="superstore", as_of=AS_OF)
    assert reads_as_follow_up(route, marked), route.reason
    edit = FollowUp().edit(intent(previous), route, marked)
    assert edit is not None
    return edit.intent


def same(a: Intent, b: Intent) -> bool:
    return a.canonical_key() == b.canonical_key()


@pytest.mark.parametrize(("previous", "question", "means"), [
    ("sales by region in 2016", "and for 2017?", "sales by region in 2017"),
    ("sales in Texas in 2016", "what about quantity?", "quantity in Texas in 2016"),
    ("sales in Texas in 2016", "how about Ohio?", "sales in Ohio in 2016"),
    ("profit by region in 2016", "just Technology", "profit by region for Technology in 2016"),
    ("sales in 2016", "split it by segment", "sales by segment in 2016"),
    ("sales by region in 2016", "split it by segment", "sales by region and segment in 2016"),
    ("profit in Texas in 2016", "same thing for last year", "profit in Texas in 2017"),
    ("sales for Furniture in 2016", "now Technology", "sales for Technology in 2016"),
    ("sales in 2016", "show it by month", "monthly sales in 2016"),
    ("sales by state in 2016", "top 3 instead", "top 3 states by sales in 2016"),
    ("sales by region in 2016", "now by segment instead of region", "sales by segment in 2016"),
    ("profit by category in 2016", "and the least?", "the category with the least profit in 2016"),
])
def test_a_follow_up_changes_what_it_names_and_keeps_the_rest(previous: str, question: str, means: str) -> None:
    assert same(follow(previous, question), intent(means))


def test_also_adds_a_member_instead_of_replacing_it() -> None:
    edited = follow("sales in Texas in 2016", "and Ohio too")
    assert edited.filters == (Filter("state", ("Texas", "Ohio")),)


def test_the_year_before_is_relative_to_the_last_period() -> None:
    edited = follow("sales in 2016", "and the year before?")
    assert (edited.time.start, edited.time.end) == (date(2015, 1, 1), date(2015, 12, 31))


def test_a_growth_question_keeps_its_shape_when_the_period_moves() -> None:
    edited = follow("sales growth in 2016", "and in 2017?")
    assert edited.operation == "growth" and edited.compare_time.start == date(2016, 1, 1)


def test_compare_it_with_compares_the_last_period_with_the_one_named() -> None:
    edited = follow("sales in March 2016", "compare it with February 2016")
    assert edited.operation == "compare_periods" and edited.compare_time.start == date(2016, 2, 1)


def test_a_complete_question_without_markers_is_a_new_question() -> None:
    marked = markers("profit by region in 2015")
    route = Router().parse(marked.text, dataset="superstore", as_of=AS_OF)
    assert not reads_as_follow_up(route, marked)


def test_unknown_words_are_never_read_as_an_edit() -> None:
    marked = markers("what about returns?")
    route = Router().parse(marked.text, dataset="superstore", as_of=AS_OF)
    assert not reads_as_follow_up(route, marked)


def test_a_named_period_of_another_size_is_the_whole_period_before() -> None:
    """"May", then "the previous quarter": the quarter before May's own; "Q1", then "the month before": December."""
    edited = follow("sales in May 2016", "what about the previous quarter")
    assert (edited.time.start, edited.time.end) == (date(2016, 1, 1), date(2016, 3, 31))
    edited = follow("sales in Q1 2016", "and the month before")
    assert (edited.time.start, edited.time.end) == (date(2015, 12, 1), date(2015, 12, 31))


def test_just_the_total_folds_a_series_into_one_number() -> None:
    edited = follow("monthly sales in 2016 excluding Furniture", "just the total")
    assert same(edited, intent("sales in 2016 excluding Furniture"))


def test_the_other_one_is_the_member_the_last_answer_did_not_name() -> None:
    previous = follow("profit in California vs Texas in 2017", "which of them had more")
    assert (previous.operation, previous.top_n) == ("top_n", 1)
    marked = markers("what about the other one, in 2016")
    route = Router().parse(marked.text, dataset="superstore", as_of=AS_OF)
    edit = FollowUp().edit(previous, route, marked, members=("California",))
    assert edit is not None and edit.intent.filters == (Filter("state", ("Texas",)),)
    assert edit.intent.time.start == date(2016, 1, 1) and not edit.intent.dimensions


def test_the_top_three_of_a_share_keeps_the_shares() -> None:
    edited = follow("share of sales by region in 2016", "only the top 3 of those")
    assert (edited.operation, edited.top_n, edited.order) == ("share", 3, "desc")


def edit_with(previous: Intent, question: str, members: tuple[str, ...]) -> Intent | None:
    marked = markers(question)
    route = Router().parse(marked.text, dataset="superstore", as_of=AS_OF)
    edit = FollowUp().edit(previous, route, marked, members=members)
    return edit.intent if edit is not None else None


TOP3 = ("California", "New York", "Washington")


@pytest.mark.parametrize(("question", "filters", "operation"), [
    ("those three together", (Filter("state", TOP3),), "total"),
    ("the second one", (Filter("state", ("New York",)),), "breakdown"),   # named beside its value
    ("exclude the biggest one", (Filter("state", ("California",), negate=True),), "top_n"),
])
def test_the_members_an_answer_listed_can_be_named_by_their_place(question: str, filters: tuple, operation: str) -> None:
    edited = edit_with(intent("top 3 states by sales in 2017"), question, TOP3)
    assert edited is not None and edited.filters == filters and edited.operation == operation


def test_the_runner_up_after_a_top_one_is_the_best_of_the_rest() -> None:
    edited = edit_with(intent("top state by sales in 2017"), "and the runner-up?", ("California",))
    assert edited.filters == (Filter("state", ("California",), negate=True),) and edited.top_n == 1


def test_a_place_with_nothing_there_is_not_dropped() -> None:
    """"the fifth one" after three members: ask, never answer as if the words were not there."""
    assert edit_with(intent("top 3 states by sales in 2017"), "the fifth one", TOP3) is None


def test_flip_it_reverses_the_order() -> None:
    edited = edit_with(intent("sales by region in 2017, largest first"), "flip it to ascending",
                       ("West", "East", "Central", "South"))
    assert edited.order == "asc"


def test_a_growth_ranking_can_switch_between_rate_and_amount() -> None:
    edited = follow("which region grew the most in dollars from 2015 to 2016", "in percentage terms instead")
    assert edited.rank_by == "pct_change"


def test_a_year_after_a_quarter_over_quarter_growth_moves_both_quarters() -> None:
    edited = follow("which region grew fastest from Q3 to Q4 2017", "and for 2016?")
    assert (edited.time.start, edited.compare_time.start) == (date(2016, 10, 1), date(2016, 7, 1))


@pytest.mark.parametrize(("previous", "question", "means"), [
    # a member of a coarser (or finer) level replaces the other level's member
    ("sales in Texas in 2017", "what about the whole Central region", "sales in the Central region in 2017"),
    ("sales in the West region in 2017", "and Texas?", "sales in Texas in 2017"),
    # "all X again" drops the filter on X and keeps the split
    ("sales by sub-category for Technology in 2017", "all categories again", "sales by sub-category in 2017"),
    # a quarter or month without a year is one of the conversation's year
    ("Furniture sales in Q2 2016", "same for q3", "Furniture sales in Q3 2016"),
    # a metric and a member alone edit the last answer (its period and split carry over)
    ("sales by segment in 2015", "units in the east", "quantity by segment in the East region in 2015"),
    # "rank them by profit" ranks everyone again by the new measure
    ("top 3 customers by sales in 2017", "rank them by profit", "top 3 customers by profit in 2017"),
    # "the best quarter" after the best month swaps the grain
    ("best month of 2016 by quantity", "and the best quarter?", "best quarter of 2016 by quantity"),
])
def test_round_12_edits(previous: str, question: str, means: str) -> None:
    assert same(follow(previous, question), intent(means))


def test_a_yearless_period_never_moves_into_a_later_year_than_the_data_has() -> None:
    edited = follow("sales in 2017", "what about q1?")
    assert (edited.time.start, edited.time.end) == (date(2017, 1, 1), date(2017, 3, 31))


@pytest.mark.parametrize(("question", "top_n", "order"), [
    ("only the biggest one", 1, "desc"),
    ("just the top one", 1, "desc"),
])
def test_one_end_of_the_last_ranking(question: str, top_n: int, order: str) -> None:
    edited = edit_with(intent("top 3 states by sales in 2017"), question, TOP3)
    assert edited is not None and (edited.operation, edited.top_n, edited.order) == ("top_n", top_n, order)
    assert edit_with(intent("top 3 states by sales in 2017"), "only the smallest one", TOP3) is None


def test_those_members_stay_pinned_when_the_period_changes() -> None:
    edited = edit_with(intent("top 3 states by sales in 2016"), "those three, but in 2017", TOP3)
    assert edited is not None and edited.operation == "breakdown" and edited.filters == (Filter("state", TOP3),)
    assert edited.time.start == date(2017, 1, 1)


def test_that_period_is_the_one_the_last_answer_picked_out() -> None:
    edited = edit_with(intent("which quarter of 2016 had the most sales"), "and the profit in that quarter",
                       ("2016-10-01",))
    assert edited is not None and edited.operation == "total" and edited.metrics == ("profit",)
    assert (edited.time.start, edited.time.end) == (date(2016, 10, 1), date(2016, 12, 31))


def test_compare_to_last_year_means_the_year_before_the_last_answer() -> None:
    edited = follow("profit in 2016", "how does that compare to last year")
    assert (edited.time.start.year, edited.compare_time.start.year) == (2016, 2015)


def test_the_other_two_with_nothing_picked_out_asks() -> None:
    assert edit_with(intent("sales by region in 2017"), "what about the other two", ()) is None
