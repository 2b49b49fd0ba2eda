"""Intent first, SQL second: the model fills the rules' intent under the semantic model's enums.

Real parts: the warehouse (shipped DuckDB backend), the compiler, the guardrails, the pipeline, and in
the learning test the semantic tier with the packaged embedding model. The model's replies are
scripted through litellm's ``mock_response`` (``MockScript``), because no provider is reachable from
the test machines; ``test_llm_local.py`` runs the same path on the real local model.

Regenerate the intent prompt snapshots after an intended change with
``.venv/bin/python -m tests.assistant.llm.test_llm_intent``.
"""

from __future__ import annotations

from datetime import date
import json
from pathlib import Path
from typing import Any

import pytest

from assistant.llm.intent_output import intent_output, metric_names, to_intent
from assistant.llm.intent_path import IntentPath
from assistant.llm.intent_prompt import examples, intent_messages
from assistant.llm.schema import BadModelOutput
from assistant.router import Router
from tests.assistant.llm.llm_helpers import AS_OF, CHEAP, STRONG, RecordingRunner, make_stage, pipeline, reply

SNAPSHOTS = Path(__file__).parent / "snapshots"
QUESTION = "How much cash did California bring in during March 2024?"
GOOD_SQL = ("SELECT SUM(revenue) AS revenue FROM sales WHERE status <> 'Cancelled' AND state = 'CA' "
            "AND order_date BETWEEN DATE '2024-03-01' AND DATE '2024-03-31'")
MARCH = {"start": "2024-03-01", "end": "2024-03-31"}


def fit(**fields: Any) -> str:
    return json.dumps({"fits": True, "operation": "total", "metrics": ["revenue"], "dimensions": [],
                       "filters": [{"dimension": "state", "values": ["CA"], "negate": False}], "time": MARCH}
                      | fields)


def intent_stage(runner: RecordingRunner, replies: list[str], *, model: str = CHEAP, **options: Any) -> Any:
    return make_stage(runner, {model: replies}, intent_path=IntentPath(runner_for=lambda dataset: runner), **options)


def ask(stage: Any, question: str = QUESTION) -> Any:
    route = Router().parse(question, dataset="retail_sales", as_of=AS_OF)
    return stage.answer(route.question, dataset="retail_sales", as_of=AS_OF, route=route)


def test_an_intent_reply_is_compiled_and_run_so_no_model_sql_reaches_the_warehouse(runner: RecordingRunner) -> None:
    result = ask(intent_stage(runner, [fit()]))
    assert (result.status, result.path, result.llm_calls) == ("answered", "intent", 1)
    truth = float(runner.inner.query(GOOD_SQL, []).rows[0][0])
    assert float(result.rows[0][0]) == pytest.approx(truth)
    assert runner.executed == [result.sql] and "?" in result.sql and "CA" in result.params   # values bound
    assert "between 2024-03-01 and 2024-03-31" in result.message
    answer = result.to_answer(question=QUESTION, dataset="retail_sales", as_of=AS_OF.isoformat())
    assert answer.interpretation["llm"]["path"] == "intent" and answer.interpretation["metrics"] == ["revenue"]
    assert answer.params == result.params and answer.tier == "llm"


def test_the_model_saying_no_intent_fits_hands_the_question_to_sql(runner: RecordingRunner) -> None:
    no_fit = json.dumps({"fits": False, "missing": "a median"})
    result = ask(intent_stage(runner, [no_fit, reply(GOOD_SQL)]))
    assert (result.status, result.path, result.llm_calls) == ("answered", "sql", 2)
    assert result.intent_note == "declined: a median"
    answer = result.to_answer(question=QUESTION, dataset="retail_sales", as_of=AS_OF.isoformat())
    assert answer.interpretation["llm"]["intent_declined"] == "declined: a median"


def test_an_intent_without_what_its_operation_needs_goes_to_sql(runner: RecordingRunner) -> None:
    growth_without_a_base = fit(operation="growth")
    result = ask(intent_stage(runner, [growth_without_a_base, reply(GOOD_SQL)]))
    assert result.path == "sql" and result.status == "answered"
    assert result.intent_note.startswith("unusable: operation 'growth' needs two periods")
    assert runner.executed == [result.sql]                 # the unusable intent never ran


def test_a_value_from_another_dimension_breaks_the_schema_and_goes_to_sql(runner: RecordingRunner) -> None:
    wrong_value = fit(filters=[{"dimension": "state", "values": ["Electronics"], "negate": False}])
    result = ask(intent_stage(runner, [wrong_value, reply(GOOD_SQL)]))
    assert result.path == "sql" and result.intent_note.startswith("bad_output: the JSON does not match the schema")


def test_a_median_question_skips_the_intent_call(runner: RecordingRunner) -> None:
    sql = ("SELECT MEDIAN(revenue) AS median_revenue FROM sales WHERE status <> 'Cancelled' AND state = 'CA' "
           "AND order_date BETWEEN DATE '2024-03-01' AND DATE '2024-03-31'")
    result = ask(intent_stage(runner, [reply(sql)], model=STRONG), "median order revenue in California in March 2024")
    assert (result.status, result.path, result.llm_calls) == ("answered", "sql", 1)
    assert result.intent_note == "needs_sql: 'median' needs more than an intent can say"


def test_without_intent_first_the_tier_writes_sql_only(runner: RecordingRunner) -> None:
    result = ask(make_stage(runner, {CHEAP: [reply(GOOD_SQL)]}))
    assert result.path == "sql" and result.intent_note is None and result.llm_calls == 1


def test_the_schema_pins_metrics_and_each_dimensions_own_values() -> None:
    output = intent_output("retail_sales", {"city": ["Springfield"]})
    text = json.dumps(output.schema)
    assert all(f'"{m}"' in text for m in metric_names("retail_sales"))
    assert "revenue_per_customer" in metric_names("retail_sales") and "customers_per_order" not in text
    parsed = output.parse(json.dumps({"fits": True, "operation": "breakdown", "metrics": ["revenue"],
                                      "dimensions": ["category"],
                                      "filters": [{"dimension": "city", "values": ["Springfield"], "negate": True}]}))
    intent = to_intent(parsed, dataset="retail_sales")
    assert intent.filters[0].negate and intent.time is None and intent.order == "desc"
    with pytest.raises(BadModelOutput, match=r"filters\.0\.city\.values\.0: Input should be 'Springfield'"):
        output.parse(json.dumps({"fits": True, "operation": "total", "metrics": ["revenue"], "dimensions": [],
                                 "filters": [{"dimension": "city", "values": ["Atlantis"], "negate": False}]}))
    with pytest.raises(BadModelOutput, match="metrics"):
        output.parse(json.dumps({"fits": True, "operation": "total", "metrics": ["cash"], "dimensions": []}))


@pytest.mark.parametrize("dataset,as_of", [("retail_sales", AS_OF), ("superstore", date(2018, 1, 1))])
def test_every_worked_example_in_the_prompt_is_a_valid_reply(dataset: str, as_of: date) -> None:
    output = intent_output(dataset)
    worked = examples(dataset, as_of)
    parsed = [output.parse(e.reply) for e in worked]
    assert [p.fits for p in parsed].count(False) == 1
    for p in parsed:
        if p.fits:
            to_intent(p, dataset=dataset)


def rendered() -> dict[str, str]:
    route = Router().parse(QUESTION, dataset="retail_sales", as_of=AS_OF)
    system, user = intent_messages(route.question, dataset="retail_sales", as_of=AS_OF, route=route)
    return {"intent_system": system["content"], "intent": user["content"]}


@pytest.mark.parametrize("name", ["intent_system", "intent"])
def test_rendered_intent_prompt_matches_its_snapshot(name: str) -> None:
    snapshot = SNAPSHOTS / f"{name}.txt"
    assert rendered()[name] == snapshot.read_text(encoding="utf-8"), \
        f"{snapshot} is out of date; rewrite with: .venv/bin/python -m tests.assistant.llm.test_llm_intent"


def test_the_system_message_does_not_depend_on_the_question() -> None:
    """So a local server's prompt cache reads it once per dataset."""
    one = intent_messages("revenue by state", dataset="superstore", as_of=date(2018, 1, 1))
    two = intent_messages("profit in Texas last year", dataset="superstore", as_of=date(2018, 1, 1))
    assert one[0] == two[0] and one[1] != two[1]


@pytest.mark.embeddings
def test_a_liked_intent_answer_becomes_a_verified_template_answering_paraphrases(runner: RecordingRunner,
                                                                                 tmp_path: Path) -> None:
    from assistant.embeddings import get_embedder
    from assistant.llm.learning import TemplateLearner
    from assistant.semantic import SemanticMatcher
    from assistant.vector_index.local import LocalIndex

    matcher = SemanticMatcher(index_for=lambda d: LocalIndex(tmp_path / f"{d}.npz"), embedder=get_embedder(),
                              min_similarity=0.80)
    learner = TemplateLearner(store_dir=tmp_path / "proposals", runner_for=lambda d: runner, semantic=matcher)
    assistant = pipeline(runner, intent_stage(runner, [fit()], learner=learner), semantic=matcher)
    first = assistant.answer(QUESTION, dataset="retail_sales", as_of=AS_OF)
    assert first.interpretation["llm"]["path"] == "intent"
    promotion = learner.on_feedback(first.answer_id, True)
    assert (promotion.outcome, promotion.template) == ("promoted", True)
    later = assistant.answer("How much cash did Ohio bring in during May 2024?", dataset="retail_sales", as_of=AS_OF)
    assert (later.tier, later.status, later.llm_calls) == ("semantic", "answered", 0)
    truth = runner.inner.query(GOOD_SQL.replace("'CA'", "'OH'").replace("2024-03-01", "2024-05-01")
                               .replace("2024-03-31", "2024-05-31"), []).rows[0][0]
    assert float(later.rows[0][0]) == pytest.approx(float(truth))


if __name__ == "__main__":
    for name, text in rendered().items():
        (SNAPSHOTS / f"{name}.txt").write_text(text, encoding="utf-8")
        print(f"wrote {SNAPSHOTS / f'{name}.txt'}")
