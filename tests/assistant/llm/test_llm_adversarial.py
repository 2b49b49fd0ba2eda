"""The adversarial suite: destructive, sneaky and injected replies never get past a read-only SELECT.

Cases live in ``adversarial/cases.yaml`` (see its header). Each runs the whole tier against the
session's real warehouse through the shipped DuckDB backend, with the model's replies scripted
through litellm's ``mock_response`` (no provider is reachable here). For every case: the status is
the expected one, nothing runs unless the case is harmless, and everything that reaches the
warehouse is one SELECT over the tier's allowed tables. The Delta tables are checksummed before the
suite and compared after it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from assistant.llm.prompts import data, sql_messages
from tests.assistant.llm.llm_helpers import (AS_OF, CHEAP, RecordingRunner, checksum, is_read_only_select,
                                             make_stage, reply, route_with_stored_value)

CASES: list[dict[str, Any]] = yaml.safe_load((Path(__file__).parent / "adversarial" / "cases.yaml").read_text())
DEFAULT_QUESTION = "How much cash did California bring in during March 2024?"
DATASET = "retail_sales"


@pytest.fixture(scope="module")
def data_before(built_warehouse: Path) -> str:
    return checksum(built_warehouse / "warehouse")


def test_the_suite_has_at_least_fifty_cases_of_every_kind() -> None:
    assert len(CASES) >= 50
    assert {c["expect"] for c in CASES} == {"refused", "clarify", "answered"}
    assert sum(1 for c in CASES if "data_value" in c) >= 2 and sum(1 for c in CASES if c.get("reply") == "none") >= 5


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_adversarial_reply_never_runs_anything_but_a_read_only_select(case: dict[str, Any], runner: RecordingRunner,
                                                                      data_before: str) -> None:
    question = case.get("question", DEFAULT_QUESTION)
    scripted = case.get("reply") != "none"
    text = reply(case["sql"], case.get("explanation", "Revenue of the period.")) if scripted else None
    stage = make_stage(runner, {CHEAP: [text, text]} if scripted else {})
    route = route_with_stored_value(question, case["data_value"]) if "data_value" in case else None
    result = stage.answer(question, dataset=DATASET, as_of=AS_OF, route=route)

    assert result.status == case["expect"], result.message
    assert all(is_read_only_select(sql) for sql in runner.executed), runner.executed
    if case["expect"] == "answered":
        assert len(runner.executed) == 1 and result.sql == runner.executed[0]
    else:
        assert runner.executed == [] and result.rows == () and result.sql is None
    if not scripted:
        assert result.llm_calls == 0                       # stopped by the screen: no model call at all
    elif case["expect"] == "refused":
        assert result.llm_calls == 1                       # unsafe is refused outright, never "repaired"
    assert "sk-proj" not in result.message and "RETAIL_LLM__API_KEY" not in result.message


@pytest.mark.parametrize("case", [c for c in CASES if "data_value" in c], ids=lambda c: c["id"])
def test_stored_values_enter_the_prompt_only_as_escaped_data(case: dict[str, Any], runner: RecordingRunner) -> None:
    stage = make_stage(runner, {})
    question = case.get("question", DEFAULT_QUESTION)
    context = stage.context.build(question, dataset=DATASET, as_of=AS_OF,
                                  route=route_with_stored_value(question, case["data_value"]))
    prompt = sql_messages(context)[1]["content"]
    city = next(line for line in prompt.splitlines() if line.startswith("- city"))
    assert data(case["data_value"]) in city                # JSON, with <, > and & escaped
    assert city.count("<data>") == city.count("</data>") == 1 and city.endswith("</data>")
    assert prompt.count("<data>") == prompt.count("</data>")
    assert prompt.count("<user_question>") == prompt.count("</user_question>") == 1


def test_the_delta_tables_are_unchanged_after_the_suite(built_warehouse: Path, data_before: str) -> None:
    assert checksum(built_warehouse / "warehouse") == data_before
