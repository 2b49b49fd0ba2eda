"""Routing: one question per operation, and the questions the rules must not answer."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.intent import Filter
from assistant.router import Router

AS_OF = date(2024, 7, 1)


def route(question: str, dataset: str = "retail_sales"):
    return Router().parse(question, dataset=dataset, as_of=AS_OF)


def intent(question: str, dataset: str = "retail_sales"):
    result = route(question, dataset)
    assert result.complete, result.reason
    return result.intent


@pytest.mark.parametrize(("question", "operation"), [
    ("What was revenue last month?", "total"),
    ("Revenue by category in Q3 2023", "breakdown"),
    ("Top 5 states by profit this year", "top_n"),
    ("Compare online vs store orders last quarter", "compare_values"),
    ("revenue in March 2024 vs February 2024", "compare_periods"),
    ("revenue growth YoY in Q1 2024", "growth"),
    ("Monthly revenue trend for the West Coast in 2023", "trend"),
    ("share of revenue by channel last year", "share"),
    ("distribution of order values in 2023", "distribution"),
])
def test_routes_each_operation(question: str, operation: str) -> None:
    assert intent(question).operation == operation


def test_top_n_reads_number_and_direction() -> None:
    top = intent("bottom 3 categories by profit in 2023")
    assert (top.top_n, top.order, top.dimensions) == (3, "asc", ("category",))
    assert intent("which state had the most orders in 2023").top_n == 1
    assert intent("top states by revenue in 2023").top_n == 5


def test_growth_compares_with_the_same_period_a_year_earlier() -> None:
    growth = intent("revenue growth YoY in Q1 2024")
    assert (growth.compare_time.start, growth.compare_time.end) == (date(2023, 1, 1), date(2023, 3, 31))
    mom = intent("MoM revenue growth in June 2024")
    assert mom.compare_time.start == date(2024, 5, 1)


def test_compare_puts_the_later_period_first() -> None:
    compare = intent("compare revenue in 2023 and 2024")
    assert (compare.time.start.year, compare.compare_time.start.year) == (2024, 2023)


def test_previous_month_after_a_month_is_the_month_before_it() -> None:
    compare = intent("March 2024 revenue vs the previous month")
    assert compare.compare_time.start == date(2024, 2, 1)


def test_share_of_one_value_keeps_the_value_as_focus() -> None:
    share = intent("what share of revenue came from Electronics in 2023")
    assert share.dimensions == ("category",) and share.filters == (Filter("category", ("Electronics",)),)


def test_cancelled_orders_use_the_cancellation_metrics() -> None:
    assert intent("what percent of orders were cancelled in 2023").metrics == ("cancellation_rate",)
    assert intent("orders with status Cancelled in 2023").metrics == ("cancelled_orders",)
    rate = intent("cancelled orders as a percentage of all orders placed through the Marketplace in 2023")
    assert rate.metrics == ("cancellation_rate",) and rate.operation == "total"     # not Marketplace's share
    assert rate.filters == (Filter("channel", ("Marketplace",)),)


def test_distinct_counts_and_superstore_metrics() -> None:
    assert intent("how many products were sold in 2023").metrics == ("distinct_product",)
    assert intent("Average days to ship by ship mode", "superstore").metrics == ("days_to_ship",)
    assert intent("orders in 2017", "superstore").metrics == ("orders",)
    assert intent("order lines in 2017", "superstore").metrics == ("order_lines",)


def test_several_values_without_compare_words_are_one_filter() -> None:
    combined = intent("revenue for CA, OR and WA in 2023")
    assert combined.operation == "total" and combined.filters == (Filter("state", ("CA", "OR", "WA")),)


@pytest.mark.parametrize("question", [
    "weather in Paris", "revenue per employee", "forecast sales next month", "show me the data",
    "revenue growth", "revenue by warehouse",
])
def test_questions_outside_the_data_are_not_complete(question: str) -> None:
    result = route(question)
    assert not result.complete and result.intent is None and result.reason


def test_incomplete_route_says_what_it_understood() -> None:
    result = route("revenue per employee in 2023")
    assert result.unknown_words == ("employee",)
    assert result.understood.metrics == ("revenue",)


# --- ordinary English (issue 16): the classes that used to clarify -------------------------------------
SS = "superstore"


def ss(question: str):
    result = Router().parse(question, dataset=SS, as_of=date(2018, 1, 1))
    assert result.complete, result.reason
    return result.intent


def test_verbs_stand_for_metrics_and_yield_to_a_named_one() -> None:
    assert ss("how much did we sell in Texas in 2016").metrics == ("sales",)
    assert ss("what did Technology bring in last year").metrics == ("sales",)
    assert ss("how much did we earn in 2016").metrics == ("profit",)
    assert ss("how many units did we sell in 2016").metrics == ("quantity",)
    assert ss("how many office supplies did we sell in 2016").metrics == ("quantity",)


def test_no_metric_means_the_default_one_and_the_answer_says_so() -> None:
    result = Router().parse("how is the business going", dataset=SS, as_of=date(2018, 1, 1))
    assert result.intent.metrics == ("sales",) and result.defaulted_metric and result.notes


def test_who_asks_about_customers_and_the_most_is_a_top_1() -> None:
    found = ss("who bought the most")
    assert (found.operation, found.dimensions, found.top_n) == ("top_n", ("customer",), 1)


def test_presentation_orders_sort_the_whole_list() -> None:
    desc = ss("kindly show me sales by region, largest first")
    asc = ss("profit by segment, smallest first")
    assert (desc.operation, desc.order, desc.top_n) == ("breakdown", "desc", None)
    assert (asc.operation, asc.order) == ("breakdown", "asc")
    assert ss("states ranked by sales from top to bottom").operation == "breakdown"


def test_argmax_over_time_and_fastest_growth() -> None:
    quarter = ss("our strongest quarter")
    assert (quarter.operation, quarter.grain, quarter.top_n) == ("top_n", "quarter", 1)
    fastest = ss("which region grew fastest from 2016 to 2017")
    assert (fastest.operation, fastest.rank_by, fastest.top_n, fastest.dimensions) == ("top_n", "pct_change", 1, ("region",))


def test_change_from_year_to_year_is_the_series_with_its_changes() -> None:
    series = ss("how did sales evolve from year to year")
    assert (series.operation, series.grain, series.change) == ("trend", "year", True)


def test_two_months_show_both_values_and_the_change() -> None:
    found = ss("March vs April 2016 sales")
    assert found.operation == "compare_periods" and found.time.start == date(2016, 4, 1)
    assert found.compare_time.start == date(2016, 3, 1)


def test_conditions_on_groups_and_on_entities() -> None:
    unprofitable = ss("which states are unprofitable")
    assert unprofitable.conditions[0].level == "group" and unprofitable.conditions[0].op == "<"
    lines = ss("how many lines had a negative profit in 2016")
    assert lines.metrics == ("order_lines",) and lines.conditions[0].level == "line"
    orders = ss("orders above $250 in 2017")
    assert orders.metrics == ("orders",) and (orders.conditions[0].metric, orders.conditions[0].value) == ("sales", 250)


def test_buckets_named_in_the_question() -> None:
    found = ss("split order values into under $50, $50-250 and over $250")
    assert (found.operation, found.dimensions, found.buckets) == ("distribution", ("order_value",), (0, 50, 250))


def test_members_together_versus_side_by_side() -> None:
    assert ss("Furniture plus Technology together in 2017").operation == "total"
    assert ss("does Texas make more than Florida?").operation == "compare_values"
    assert ss("Furniture versus Technology profit").operation == "compare_values"


def test_derived_measures_in_words() -> None:
    assert ss("profit relative to sales by category").metrics == ("margin",)
    assert ss("how long shipping takes on average").metrics == ("days_to_ship",)
    assert ss("average sales per order").metrics == ("sales_per_order",)
    assert ss("revenue per customer by segment").metrics == ("sales_per_customer",)


def test_average_per_period_divides_by_the_days() -> None:
    found = ss("average daily sales in November 2017")
    assert (found.operation, found.average_over) == ("total", "day")


def test_typos_are_corrected_and_reported() -> None:
    result = Router().parse("revnue by catagory in 2016", dataset=SS, as_of=date(2018, 1, 1))
    assert result.complete and {c.typed: c.read_as for c in result.corrections} == {"revnue": "revenue",
                                                                                    "catagory": "category"}


@pytest.mark.parametrize(("question", "means"), [
    ("revenue by channel for twenty twenty-three", "revenue by channel in 2023"),
    ("units of Grocery in Nov '23", "units of Grocery in November 2023"),
    ("who was our no. 1 customer in 2023 by revenue", "top customer by revenue in 2023"),
    ("revenue in the month prior", "revenue in the previous month"),
    ("only the top 3 states by revenue in 2023", "top 3 states by revenue in 2023"),
    ("how much did CA and TX each sell in 2023", "compare revenue of CA and TX in 2023"),
])
def test_everyday_spellings_mean_the_plain_question(question: str, means: str) -> None:
    assert intent(question).canonical_key() == intent(means).canonical_key()


@pytest.mark.parametrize(("question", "rank_by", "later", "earlier"), [
    ("which channel grew fastest from q3 to q4 2023", "pct_change", date(2023, 10, 1), date(2023, 7, 1)),
    ("which channel grew the most in dollars from q3 to q4 2023", "change", date(2023, 10, 1), date(2023, 7, 1)),
    ("which category added the most revenue from Q3 2023 to Q4 2023", "change", date(2023, 10, 1), date(2023, 7, 1)),
    ("which region had the biggest dollar increase in revenue from Q1 2023 to Q1 2024", "change",
     date(2024, 1, 1), date(2023, 1, 1)),
    ("what category expanded most between 2022 and 2023", "pct_change", date(2023, 1, 1), date(2022, 1, 1)),
])
def test_growth_rankings_keep_two_periods_and_say_rate_or_amount(question: str, rank_by: str, later: date,
                                                                   earlier: date) -> None:
    it = intent(question)
    assert (it.operation, it.rank_by, it.time.start, it.compare_time.start) == ("top_n", rank_by, later, earlier)


@pytest.mark.parametrize(("question", "excluded"), [
    ("sales sans texas in q1 2024", ("state", ("TX",))),
    ("2023 profit, save for books", ("category", ("Books",))),
    ("units sold last quarter bar electronics", ("category", ("Electronics",))),
    ("ex-california revenue by channel, first half of 2024", ("state", ("CA",))),
    ("whats our margin for 2023 once you take out grocery and beauty", ("category", ("Grocery", "Beauty"))),
    ("orders that did not come through the store, split by segment, last quarter", ("channel", ("Store",))),
    ("margin for 2023 once grocery and beauty are taken out", ("category", ("Grocery", "Beauty"))),
])
def test_exclusions_said_many_ways_negate_their_members(question: str, excluded: tuple[str, tuple[str, ...]]) -> None:
    dimension, values = excluded
    negated = {v for f in intent(question).filters if f.negate and f.dimension == dimension for v in f.values}
    assert negated == set(values)


@pytest.mark.parametrize(("question", "start", "end"), [
    ("revenue in '23", date(2023, 1, 1), date(2023, 12, 31)),
    ("revenue the year before last", date(2022, 1, 1), date(2022, 12, 31)),
    ("revenue 2 years ago", date(2022, 1, 1), date(2022, 12, 31)),
    ("revenue the month before last", date(2024, 5, 1), date(2024, 5, 31)),
])
def test_periods_said_casually(question: str, start: date, end: date) -> None:
    window = intent(question).time
    assert (window.start, window.end) == (start, end)


@pytest.mark.parametrize("question", [
    "what was our profit in £ in 2023",            # a currency symbol is a unit the data does not hold
    "yen please: electronics revenue for june 2024",  # a unit in an aside is not an aside
    "revenue in k$ by region for 2023",             # thousands are asked, not dollars
    "csat by region for last year",                 # an acronym is not a typo of a shorter word
])
def test_words_that_change_the_number_clarify(question: str) -> None:
    assert not route(question).complete


def test_a_dimension_as_the_subject_of_a_verb_asks_whether_together_or_each() -> None:
    assert not route("how much revenue did the stores ring up last year", "tpcds_store").complete
    assert intent("what did each store take in last year", "tpcds_store").dimensions == ("store",)


def test_abbreviations_read_as_their_words() -> None:
    assert intent("revenue per-cust by region, 2023").metrics == ("revenue_per_customer",)
    assert intent("how many customers ordered last month").metrics == ("customers",)


def test_a_growth_ranking_keeps_the_count_said_in_words() -> None:
    ranked = intent("which three states added the most revenue going from H1 2023 to H1 2024")
    assert (ranked.operation, ranked.top_n, ranked.dimensions) == ("top_n", 3, ("state",))


@pytest.mark.parametrize("question", [
    "which category lost the most money in 2023",
    "biggest loss by category in 2023",
    "which category had the biggest net loss in 2023",
])
def test_the_biggest_loss_is_the_lowest_of_the_loss_conditions_measure(question: str) -> None:
    ranked = intent(question)
    assert (ranked.operation, ranked.metrics, ranked.order, ranked.top_n) == ("top_n", ("profit",), "asc", 1)


@pytest.mark.parametrize(("question", "metric"), [
    ("which sub-category was the most unprofitable in 2016", "profit"),
    ("which state is most in the red", "profit"),
    ("the most loss-making product", "profit"),
    ("which sub-category has the most negative margin", "margin"),
])
def test_the_most_unprofitable_is_the_lowest_not_the_top_among_losses(question: str, metric: str) -> None:
    """Before: a loss condition filtered the groups and the highest of them was picked (a wrong member)."""
    ranked = ss(question)
    assert (ranked.operation, ranked.metrics, ranked.order, ranked.top_n, ranked.conditions) == \
        ("top_n", (metric,), "asc", 1, ())


def test_context_before_the_question_and_years_in_words_are_read_around() -> None:
    assert ss("before our planning call, rank the regions by sales in two thousand sixteen, largest first").dimensions == \
        ("region",)
    total = ss("for my notes: total profit for nineteen ninety-nine")
    assert (total.metrics, total.time.start) == (("profit",), date(1999, 1, 1))
    assert ss("customers of which region bought the fewest units in 2016").dimensions == ("region",)
    assert ss("West and East, how much sales each one in 2016").operation == "compare_values"
    assert ss("comparing 2016 with 2014, how many units did we sell in each year").operation == "compare_periods"
    assert ss("do you have the regions ranked by profit for 2016, most profitable first").order == "desc"
    assert ss("In 2016, how much profit did the busness make overall?").filters == ()
    assert ss("which states customers bought the fewest units in 2016").top_n == 1


def test_evolving_over_whole_years_is_the_yearly_series_with_its_changes() -> None:
    series = intent("how did sales evolve from 2014 to 2016", "superstore")
    assert (series.operation, series.grain, series.change) == ("trend", "year", True)
    stepped = intent("sales year by year 2014 to 2016 with the change from the prior year", "superstore")
    assert (stepped.operation, stepped.grain, stepped.change) == ("trend", "year", True)


def test_a_measure_said_only_to_set_it_apart_is_not_counted() -> None:
    assert intent("how many units did we sell in 2023 - units, not orders").metrics == ("units",)
    assert intent("how many orders in 2023, not counting Texas").filters == (Filter("state", ("TX",), negate=True),)


def test_margin_in_dollars_is_the_profit_and_cancellations_left_out_change_nothing() -> None:
    assert intent("margin in dollars for Home in 2023").metrics == ("profit",)
    assert intent("margin for Home in 2023").metrics == ("margin",)
    assert intent("revenue in 2023, excluding cancellations").filters == (Filter("status", ("Cancelled",), negate=True),)


@pytest.mark.parametrize("question", [
    "OH customer sales last year",
    "how much did people in Ohio spend last year",
    "spend by ohio customers last year",
])
def test_words_that_only_say_whose_rows_leave_the_measure_alone(question: str) -> None:
    read = intent(question, "tpcds_store")
    assert (read.metrics, read.filters) == (("sales",), (Filter("state", ("OH",)),))


def test_a_thing_of_a_member_is_the_member_and_how_many_still_counts() -> None:
    assert intent("how many receipts had a Shoes item on them in 2000", "tpcds_store").metrics == ("tickets",)
    assert intent("number of distinct customers who bought Children items in 2001", "tpcds_store").metrics \
        == ("customers",)


def test_how_two_members_did_is_each_members_figure() -> None:
    both = intent("how did Jewelry and Music do in december 2002, in sales", "tpcds_store")
    assert (both.operation, both.dimensions) == ("compare_values", ("category",))
    together = intent("how did Jewelry and Music do together in december 2002, in sales", "tpcds_store")
    assert together.operation == "total"


def test_a_count_opening_the_question_is_the_ranking_size() -> None:
    ranked = intent("5 categories with the most units sold in 2001", "tpcds_store")
    assert (ranked.operation, ranked.top_n) == ("top_n", 5)
    assert not route("12 months of sales", "superstore").complete


def test_the_share_of_revenue_kept_as_profit_is_the_margin() -> None:
    assert intent("what % of revenue did we keep as profit in 2001", "tpcds_store").metrics == ("margin",)
    assert intent("which dept was the biggest money loser in 2002", "tpcds_store").order == "asc"


@pytest.mark.parametrize("question", ["how many sales did we make in 2001", "number of sales in 2001", "sales count 2001"])
def test_a_money_measure_counted_is_the_count_of_sales(question: str) -> None:
    assert intent(question, "tpcds_store").metrics == ("tickets",)
    assert intent("how much sales in 2001", "tpcds_store").metrics == ("sales",)


def test_the_stores_together_is_one_total() -> None:
    together = intent("what did the stores sell all together in 2001", "tpcds_store")
    assert (together.operation, together.dimensions) == ("total", ())
    assert not route("what did the stores sell in 2001", "tpcds_store").complete


def test_business_done_and_units_moved_are_sales_words() -> None:
    assert intent("how much business did we do in 2001", "tpcds_store").filters == ()
    assert intent("how many units moved in 2000", "tpcds_store").operation == "total"
    assert intent("profit as a % of sales for 2001", "tpcds_store").metrics == ("margin",)
    assert intent("what was the best state for customer spending in 2001", "tpcds_store").metrics == ("sales",)
    assert intent("average customer spend in 2001", "tpcds_store").metrics == ("sales_per_customer",)


def test_one_row_each_and_which_of_our_stores() -> None:
    each = intent("sales for Books and Music in 2001, one row each", "tpcds_store")
    assert (each.operation, each.dimensions) == ("compare_values", ("category",))
    one = intent("which of our stores took the most money in 2001", "tpcds_store")
    assert (one.operation, one.top_n) == ("top_n", 1)
    assert intent("which stores took the most money in 2001", "tpcds_store").top_n == 5


def test_a_dimension_that_lost_the_most_is_ranked_by_the_loss() -> None:
    ranked = intent("customer state that lost us the most money, 2001", "tpcds_store")
    assert (ranked.dimensions, ranked.order, ranked.metrics) == (("state",), "asc", ("net_profit",))


def test_people_counted_are_customers_and_a_total_of_customers_stays_a_count() -> None:
    assert intent("how many folks bought Electronics in 2000", "tpcds_store").metrics == ("customers",)
    assert intent("total customers who bought from the Women dept in 2002", "tpcds_store").metrics == ("customers",)


def test_months_joined_by_to_are_one_span_unless_compared() -> None:
    span = intent("Shoes dept sales, april to june 2002", "tpcds_store")
    assert (span.operation, span.time.start, span.time.end) == ("total", date(2002, 4, 1), date(2002, 6, 30))
    assert intent("compare sales april to june 2002", "tpcds_store").operation == "compare_periods"


@pytest.mark.parametrize("question", ["total qty sold in CY2000", "units in FY2000 (calendar year)"])
def test_a_calendar_year_said_as_cy_or_fy_calendar_is_that_year(question: str) -> None:
    assert intent(question, "tpcds_store").time.start == date(2000, 1, 1)
    # tpcds_store's model says its fiscal year is the calendar year (d_fy_year = d_year); retail_sales says nothing
    assert intent("units in FY2000", "tpcds_store").time.start == date(2000, 1, 1)
    assert not route("units in FY2023").complete


def test_a_dimension_word_only_qualifying_a_total_or_its_customers() -> None:
    total = intent("could you tell me our total store revenue in 2001", "tpcds_store")
    assert (total.operation, total.dimensions) == ("total", ())
    ranked = intent("Which state's customers gave us the best margin in 1999?", "tpcds_store")
    assert (ranked.metrics, ranked.dimensions) == (("margin",), ("state",))
    assert not route("what did our stores clear in net profit last year", "tpcds_store").complete
    assert intent("how much did the stores make in 2001 each", "tpcds_store").dimensions == ("store",)


def test_for_each_after_two_members_puts_them_side_by_side() -> None:
    each = intent("Shoes and Sports - margin for each in 2001", "tpcds_store")
    assert (each.operation, each.dimensions) == ("compare_values", ("category",))
    assert intent("sales for each category in 2001", "tpcds_store").operation == "breakdown"


def test_a_parent_level_owning_the_child_is_what_is_ranked() -> None:
    ranked = intent("which city's stores sold the most in 1999", "tpcds_store")
    assert ranked.dimensions == ("store_city",)
    assert intent("distinct customers, all years combined, who ever bought Books", "tpcds_store").metrics \
        == ("customers",)


@pytest.mark.parametrize("question", [
    "total revenue for all regions in 2023",
    "revenue of all regions combined in 2023",
    "combined revenue of every category in 2023",
    "2023 revenue summed across regions",
    "all-region revenue 2023",
    "what was sold in 2023 in total, all regions, all categories",
    "Across all regions, how much revenue did we make in 2023?",
    "revenue across every region, in total, 2023",
])
def test_every_member_taken_together_is_one_number(question: str) -> None:
    result = intent(question)
    assert (result.operation, result.dimensions, result.filters) == ("total", (), ()), question


def test_every_member_named_without_together_still_splits() -> None:
    assert intent("revenue for every region in 2023").dimensions == ("region",)
    assert intent("revenue by category, all regions, 2023").dimensions == ("category",)
    top = intent("across all regions, which one sold the most in 2023")
    assert (top.operation, top.dimensions) == ("top_n", ("region",))


def test_a_declined_split_drops_only_what_it_names() -> None:
    assert intent("revenue by category in 2023, no need to split it by region").dimensions == ("category",)
    no_months = intent("No monthly split please - total units for 2023 only.")
    assert (no_months.operation, no_months.grain) == ("total", None)
    assert intent("what was revenue in 2023? not broken down, just the one number").operation == "total"
    assert intent("skip the per-region detail: what was revenue in 2023?").dimensions == ()


def test_money_words_and_imperatives_are_not_other_measures() -> None:
    assert intent("How many dollars came in during 2023?").metrics == ("revenue",)
    regions = intent("The regions, order them by revenue in 2023, the smallest first")
    assert (regions.metrics, regions.order) == (("revenue",), "asc")
    assert intent("Kindly state the number of orders in Q2 2023.").dimensions == ()
    assert intent("revenue ~ month, 2023").grain == "month"


def test_a_loss_asked_for_is_the_profit_measure() -> None:
    assert intent("how much money did we lose in 2023").metrics == ("profit",)
    made_or_lost = intent("money made or lost by each region in 2023")
    assert (made_or_lost.metrics, made_or_lost.dimensions) == (("profit",), ("region",))
    worst_first = intent("list every region by profit for 2023, biggest loss first")
    assert (worst_first.operation, worst_first.order) == ("breakdown", "asc")


def test_which_and_which_puts_two_members_side_by_side() -> None:
    both = intent("Which revenue have the West and which the South in 2023?")
    assert (both.operation, both.dimensions) == ("compare_values", ("region",))


def test_a_fiscal_year_is_read_only_where_the_model_says_it_is_the_calendar_year() -> None:
    from assistant.router import _calendar_fiscal_years

    assert _calendar_fiscal_years("FY2001 sales (our FY is the calendar year)") == "2001 sales"
    assert _calendar_fiscal_years("units, fiscal year 99") == "units, 1999"
    assert not route("revenue FY2023").complete          # retail_sales declares no fiscal year


def test_column_names_are_read_as_what_they_hold() -> None:
    assert intent("sum(revenue) by sub_category, 2023").dimensions == ("sub_category",)
    assert intent("count(distinct customer_id) in 2023").metrics == ("customers",)
    tpcds = Router().parse("count(distinct ss_ticket_number) by s_city, 2001", dataset="tpcds_store",
                           as_of=date(2003, 1, 3))
    assert tpcds.complete and (tpcds.intent.metrics, tpcds.intent.dimensions) == (("tickets",), ("store_city",))


def test_a_count_word_that_is_also_money_clarifies_when_asked_as_an_amount() -> None:
    def tpcds(question: str):
        return Router().parse(question, dataset="tpcds_store", as_of=date(2003, 1, 3))

    for amount in ("what were total receipts for 2001", "how much did we take in receipts in 2001"):
        assert not tpcds(amount).complete and "money taken or the number" in tpcds(amount).reason
    for count in ("how many receipts in 2001", "number of till receipts by store in 2000", "receipts in 2001"):
        assert tpcds(count).complete and tpcds(count).intent.metrics == ("tickets",), count
    assert tpcds("what did the average receipt come to in 2001").intent.metrics == ("sales_per_ticket",)


@pytest.mark.parametrize("question", ["revenue in 2022 plus 2023", "revenue 2022 and 2023 combined",
                                      "orders for 2022 & 2023 together", "units in 2022 and 2023, both years added up",
                                      "revenue by channel for 2022 and 2023 combined"])
def test_two_periods_added_up_are_one_window_over_both(question: str) -> None:
    summed = intent(question)
    assert summed.operation in ("total", "breakdown") and summed.compare_time is None
    assert (summed.time.start, summed.time.end) == (date(2022, 1, 1), date(2023, 12, 31))


def test_two_periods_not_added_up_stay_compared_and_a_gap_is_no_range_to_add() -> None:
    for compared in ("revenue in 2022 and 2023", "revenue 2022 vs 2023", "revenue in 2022 plus 2023 vs 2021"):
        read = route(compared)
        assert read.intent is None or read.intent.operation == "compare_periods", compared
    assert intent("revenue in 2022 and 2023 compared").operation == "compare_periods"
    gap = route("revenue in 2021 and 2023 combined")
    assert not gap.complete and "gap" in gap.reason and "from 2021 to 2023" in gap.reason


def test_a_states_people_are_its_customers() -> None:
    counted = intent("how many Texans bought from us in 2023")
    assert counted.metrics == ("customers",) and counted.filters == (Filter("state", ("TX",)),)
    spent = intent("how much did New Yorkers and Ohioans spend in 2023, each")
    assert (spent.metrics, spent.operation) == (("revenue",), "compare_values")
    assert set(spent.filters[0].values) == {"NY", "OH"}


def test_the_first_year_on_record_is_the_year_the_data_starts_in() -> None:
    from assistant.vocabulary import build_vocabulary
    known = build_vocabulary("retail_sales", date_range=(date(2022, 3, 14), date(2024, 6, 30)))
    for question in ("revenue in the first year we have data for", "orders in our first year",
                     "profit by channel in the earliest year on record"):
        read = Router().parse(question, dataset="retail_sales", as_of=AS_OF, vocabulary=known)
        assert read.complete and (read.intent.time.start, read.intent.time.end) == (date(2022, 1, 1), date(2022, 12, 31))
    said = Router().parse("revenue in 2022? i think that is the first year in the data", dataset="retail_sales",
                          as_of=AS_OF, vocabulary=known)       # a remark about 2022, no second period
    assert said.complete and said.intent.operation == "total" and said.intent.time.start == date(2022, 1, 1)
    wrong = Router().parse("revenue in 2023, the first year on record", dataset="retail_sales", as_of=AS_OF,
                           vocabulary=known)
    assert not wrong.complete and "first year in the data is 2022, not 2023" in wrong.reason
    unknown = route("revenue in the first year we have data for")       # no data range: ask for the year
    assert not unknown.complete and "name the year" in unknown.reason


def test_what_the_company_takes_home_is_its_profit_and_what_customers_take_home_they_bought() -> None:
    assert intent("what did we take home in 2023").metrics == ("profit",)
    assert intent("our take-home by channel, 2023").metrics == ("profit",)
    assert intent("which state's customers took home the most units in 2023").metrics == ("units",)
