"""spark_jobs.finish: after the load, a missing views or DQ package fails the batch by name."""

from __future__ import annotations

import sys

import pytest

from spark_jobs.finish import finish
from spark_jobs.load import Outcome, Tables
from warehouse.spec import load_dataset


def retail_tables() -> Tables:
    return Tables.of("retail_sales", load_dataset("retail_sales").spec)


def test_a_missing_dq_results_module_fails_loudly_instead_of_skipping_the_results(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "dq.results", None)
    nothing = Outcome(0, 0, 0, 0, frozenset())
    with pytest.raises(ModuleNotFoundError, match=r"dq\.results"):
        finish(nothing, tables=retail_tables(), stats=[], batch_id="b1")


def test_a_missing_views_module_fails_loudly_when_partitions_were_touched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "warehouse.views", None)
    touched = Outcome(1, 1, 0, 0, frozenset({(2024, 1)}))
    with pytest.raises(ModuleNotFoundError, match=r"warehouse\.views"):
        finish(touched, tables=retail_tables(), stats=[], batch_id="b1")
