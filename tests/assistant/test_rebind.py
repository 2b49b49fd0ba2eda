"""Re-binding a remembered intent onto a new question's slot values."""

from __future__ import annotations

from datetime import date

from assistant.intent import Filter, Intent, TimeWindow
from assistant.rebind import rebind
from assistant.slots import extract_slots

AS_OF = date(2024, 7, 1)


def slots(question: str, dataset: str = "retail_sales"):
    return extract_slots(question, dataset=dataset, as_of=AS_OF)


def test_rebind_moves_a_template_onto_new_values() -> None:
    old_q, new_q = "revenue in Texas in March 2024", "profit in Ohio in April 2023"
    march = TimeWindow(date(2024, 3, 1), date(2024, 3, 31), "March 2024")
    template = Intent("retail_sales", ("revenue",), "total", filters=(Filter("state", ("TX",)),), time=march)
    rebound = rebind(template, slots(old_q), slots(new_q))
    assert rebound is not None
    assert rebound.metrics == ("profit",) and rebound.filters == (Filter("state", ("OH",)),)
    assert (rebound.time.start, rebound.time.end) == (date(2023, 4, 1), date(2023, 4, 30))


def test_rebind_refuses_slots_that_do_not_line_up() -> None:
    template = Intent("retail_sales", ("revenue",), "total", filters=(Filter("state", ("TX",)),))
    assert rebind(template, slots("revenue in Texas"), slots("revenue in Electronics")) is None
    assert rebind(template, slots("revenue in Texas"), slots("revenue in Texas and Ohio")) is None


def test_rebind_derives_the_growth_base_again() -> None:
    q1_2024 = TimeWindow(date(2024, 1, 1), date(2024, 3, 31), "Q1 2024")
    q1_2023 = TimeWindow(date(2023, 1, 1), date(2023, 3, 31), "Q1 2023")
    template = Intent("retail_sales", ("revenue",), "growth", time=q1_2024, compare_time=q1_2023)
    rebound = rebind(template, slots("revenue growth YoY in Q1 2024"), slots("revenue growth YoY in Q3 2023"))
    assert rebound is not None and rebound.compare_time is not None
    assert (rebound.compare_time.start, rebound.compare_time.end) == (date(2022, 7, 1), date(2022, 9, 30))


def test_amounts_and_conditions_are_never_rebound() -> None:
    template = Intent("retail_sales", ("orders",), "total")
    assert rebind(template, slots("orders above $250"), slots("orders above $500")) is None
