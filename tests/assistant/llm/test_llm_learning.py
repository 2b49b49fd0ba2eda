"""The learning loop: LLM answers are proposed templates; only a positive vote plus a re-run verifies them.

Real parts: the warehouse (shipped DuckDB backend), the semantic tier (``SemanticMatcher`` with the
packaged embedding model and local indexes under tmp_path), the example store, the pipeline and the
HTTP layer's ``FeedbackRecord``. The model's replies are scripted through litellm's ``mock_response``
(no provider is reachable here).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assistant.embeddings import Embedder, get_embedder
from assistant.http.feedback import FeedbackRecord
from assistant.llm.examples import ExampleStore
from assistant.llm.learning import TemplateLearner
from assistant.router import Router
from assistant.semantic import SemanticMatcher
from assistant.vector_index.local import LocalIndex
from tests.assistant.llm.llm_helpers import AS_OF, CHEAP, RecordingRunner, make_stage, pipeline, reply

pytestmark = pytest.mark.embeddings

ASKED = "How much cash did California bring in during March 2024?"
PARAPHRASE = "How much cash did Texas bring in during April 2024?"
LATER = "How much cash did Ohio bring in during May 2024?"
SQL = ("SELECT SUM(revenue) AS revenue FROM sales WHERE status <> 'Cancelled' AND state = '{state}' "
       "AND order_date BETWEEN DATE '{start}' AND DATE '{end}'")


def intent(state: str, start: str, end: str) -> dict[str, Any]:
    return {"metrics": ["revenue"], "operation": "total", "dimensions": [],
            "filters": [{"dimension": "state", "values": [state], "negate": False}],
            "time": {"start": start, "end": end, "column": "order_date"}, "compare_time": None, "grain": None,
            "top_n": None, "order": "desc"}


def llm_reply(state: str, start: str, end: str, *, sql: str = SQL) -> str:
    return reply(sql.format(state=state, start=start, end=end),
                 f"Revenue of non-cancelled {state} orders between {start} and {end}.",
                 intent=intent(state, start, end))


CA_MARCH = llm_reply("CA", "2024-03-01", "2024-03-31")
TX_APRIL = llm_reply("TX", "2024-04-01", "2024-04-30")


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return get_embedder()


class Loop:
    """The pipeline with the semantic tier and the LLM tier sharing one learner."""

    def __init__(self, runner: RecordingRunner, root: Path, embedder: Embedder, replies: list[str]) -> None:
        self.matcher = SemanticMatcher(index_for=lambda d: LocalIndex(root / "vectors" / f"{d}.npz"),
                                       embedder=embedder, min_similarity=0.80)
        self.examples = ExampleStore(index_for=lambda d: LocalIndex(root / "vectors" / f"{d}.sql_examples.npz"),
                                     embedder=embedder)
        self.learner = TemplateLearner(store_dir=root / "proposals", runner_for=lambda d: runner,
                                       semantic=self.matcher, examples=self.examples)
        self.stage = make_stage(runner, {CHEAP: replies}, learner=self.learner)
        self.assistant = pipeline(runner, self.stage, semantic=self.matcher)
        self.runner = runner

    def ask(self, question: str) -> Any:
        return self.assistant.answer(question, dataset="retail_sales", as_of=AS_OF)

    def vote(self, answer_id: str, helpful: bool) -> None:
        """As the HTTP service does: a stored FeedbackRecord handed to the assistant's hook."""
        self.assistant.on_feedback(FeedbackRecord(feedback_id="f1", answer_id=answer_id, helpful=helpful,
                                                  comment=None, received_at="2024-07-01T00:00:00+00:00",
                                                  principal=None))

    def revenue(self, state: str, start: str, end: str) -> float:
        return float(self.runner.inner.query(SQL.format(state=state, start=start, end=end), []).rows[0][0])


def test_a_liked_and_re_run_answer_becomes_a_verified_template_for_paraphrases(runner: RecordingRunner,
                                                                               tmp_path: Path,
                                                                               embedder: Embedder) -> None:
    loop = Loop(runner, tmp_path, embedder, [CA_MARCH, TX_APRIL])
    first = loop.ask(ASKED)
    assert first.tier == "llm" and first.status == "answered"
    assert (tmp_path / "proposals" / f"{first.answer_id}.json").exists()

    before = loop.ask(PARAPHRASE)                         # proposed templates never answer
    assert before.tier == "llm" and before.llm_calls == 1

    promotion = loop.learner.on_feedback(first.answer_id, True)
    assert (promotion.outcome, promotion.template, promotion.example) == ("promoted", True, True)
    assert not (tmp_path / "proposals" / f"{first.answer_id}.json").exists()

    later = loop.ask(LATER)                               # answered by the verified template: no LLM call
    assert later.tier == "semantic" and later.status == "answered" and later.llm_calls == 0
    assert "california" in (later.neighbour or "").lower()     # the liked question is the neighbour
    assert float(later.rows[0][0]) == pytest.approx(loop.revenue("OH", "2024-05-01", "2024-05-31"))
    assert "between 2024-05-01 and 2024-05-31" in later.answer

    route = Router().parse(PARAPHRASE, dataset="retail_sales", as_of=AS_OF)
    (example,) = loop.examples.similar(route.question, dataset="retail_sales", slots=route.slots)
    assert "state = 'CA'" in example.sql and example.similarity > 0.99     # same masked question


def test_the_http_feedback_hook_promotes_through_the_assistant(runner: RecordingRunner, tmp_path: Path,
                                                               embedder: Embedder) -> None:
    loop = Loop(runner, tmp_path, embedder, [CA_MARCH])
    first = loop.ask(ASKED)
    loop.vote(first.answer_id, True)
    assert loop.ask(PARAPHRASE).tier == "semantic"


def test_negative_feedback_drops_the_proposal_and_nothing_is_verified(runner: RecordingRunner, tmp_path: Path,
                                                                     embedder: Embedder) -> None:
    loop = Loop(runner, tmp_path, embedder, [CA_MARCH, TX_APRIL])
    first = loop.ask(ASKED)
    assert loop.learner.on_feedback(first.answer_id, False).outcome == "declined"
    assert loop.learner.on_feedback(first.answer_id, True).outcome == "unknown_answer"
    assert loop.ask(PARAPHRASE).tier == "llm"
    assert loop.examples.similar(PARAPHRASE, dataset="retail_sales") == ()


@pytest.mark.parametrize(("change", "detail"), [
    ({"sql": "SELECT SUM(revenue_old) AS revenue FROM sales"}, "re-running the SQL failed: unknown column"),
    ({"columns": ["total"]}, "returned columns ['revenue'], not ['total']"),
])
def test_a_failed_re_execution_blocks_the_promotion_despite_positive_feedback(
        runner: RecordingRunner, tmp_path: Path, embedder: Embedder, change: dict[str, Any], detail: str) -> None:
    loop = Loop(runner, tmp_path, embedder, [CA_MARCH, TX_APRIL])
    first = loop.ask(ASKED)
    stored = tmp_path / "proposals" / f"{first.answer_id}.json"
    # What the data or the schema changing between the answer and the vote looks like to the check.
    stored.write_text(json.dumps({**json.loads(stored.read_text()), **change}))
    promotion = loop.learner.on_feedback(first.answer_id, True)
    assert promotion.outcome == "reexecution_failed" and detail in promotion.detail
    assert not promotion.template and not promotion.example
    assert loop.ask(PARAPHRASE).tier == "llm"


def test_a_template_whose_numbers_differ_from_the_sql_is_not_verified(runner: RecordingRunner, tmp_path: Path,
                                                                      embedder: Embedder) -> None:
    with_cancelled = ("SELECT SUM(revenue) AS revenue FROM sales WHERE state = '{state}' "
                      "AND order_date BETWEEN DATE '{start}' AND DATE '{end}'")
    loop = Loop(runner, tmp_path, embedder, [llm_reply("CA", "2024-03-01", "2024-03-31", sql=with_cancelled),
                                             TX_APRIL])
    first = loop.ask(ASKED)
    promotion = loop.learner.on_feedback(first.answer_id, True)
    assert (promotion.outcome, promotion.template, promotion.example) == ("promoted", False, True)
    assert "numbers differ" in promotion.detail
    assert loop.ask(PARAPHRASE).tier == "llm"


def test_a_value_no_slot_covers_keeps_only_the_sql_example(runner: RecordingRunner, tmp_path: Path,
                                                           embedder: Embedder) -> None:
    loop = Loop(runner, tmp_path, embedder, [CA_MARCH])
    first = loop.ask("How much cash did the Golden State bring in during March 2024?")   # CA is not a slot here
    record = json.loads((tmp_path / "proposals" / f"{first.answer_id}.json").read_text())
    assert record["template"] is None
    promotion = loop.learner.on_feedback(first.answer_id, True)
    assert (promotion.outcome, promotion.template, promotion.example) == ("promoted", False, True)


def test_unknown_or_malformed_answer_ids_promote_nothing(tmp_path: Path) -> None:
    learner = TemplateLearner(store_dir=tmp_path, runner_for=lambda d: None)
    for answer_id in ("0" * 32, "../../etc/passwd", ""):
        assert learner.on_feedback(answer_id, True).outcome == "unknown_answer"
