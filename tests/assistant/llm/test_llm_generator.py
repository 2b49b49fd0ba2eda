"""Generation through litellm: parsing, pricing, retries, fallbacks, model tiers, the mock setting.

No provider is reachable from the test machines: replies come from litellm's ``mock_response``
(a text, or an exception instance litellm raises as the provider would), scripted per model.
"""

from __future__ import annotations

import json
from pathlib import Path
import subprocess
import sys

import litellm
import pytest

from assistant.llm.generator import Generator, MockScript, ScriptExhausted, difficulty, response_format_for
from assistant.llm.usage import USAGE
from retail_insights.errors import ConfigError
from retail_insights.settings import get_settings
from tests.assistant.llm.llm_helpers import CHEAP, FALLBACK, STRONG, reply

MESSAGES = [{"role": "system", "content": "Write SQL."}, {"role": "user", "content": "revenue in March 2024"}]
SQL = "SELECT SUM(revenue) FROM sales"


def generator(script: dict[str, list[object]], **options: object) -> Generator:
    settings = dict(model=CHEAP, strong_model=STRONG, fallbacks=[FALLBACK], timeout_s=5.0, max_retries=1,
                    mock_response=MockScript(script), backoff_s=0.0)
    settings.update(options)
    return Generator(**settings)  # type: ignore[arg-type]


def timeout(model: str) -> litellm.Timeout:
    return litellm.Timeout(message="provider took too long", model=model, llm_provider="openai")


def test_a_valid_reply_is_parsed_and_priced_from_litellms_price_list() -> None:
    result = generator({CHEAP: [reply(SQL)]}).generate(MESSAGES)
    assert result.status == "ok" and result.model == CHEAP and result.answer is not None
    assert result.answer.sql == SQL and result.answer.answerable and result.answer.intent is None
    (call,) = result.calls
    assert call.outcome == "ok" and call.prompt_tokens > 0 and call.completion_tokens > 0
    expected = litellm.model_cost[CHEAP]
    assert call.cost_usd == pytest.approx(call.prompt_tokens * expected["input_cost_per_token"]
                                          + call.completion_tokens * expected["output_cost_per_token"])


def test_a_reply_fenced_in_a_json_code_block_is_accepted() -> None:
    result = generator({CHEAP: ["```json\n" + reply(SQL) + "\n```"]}).generate(MESSAGES)
    assert result.status == "ok" and result.answer.sql == SQL


@pytest.mark.parametrize(("text", "message"), [
    ("Sure! SELECT 1", "the output is not JSON"),
    (json.dumps({"sql": SQL, "explanation": "x", "intent": None}), "at answerable: Field required"),
    (json.dumps({"answerable": True, "sql": SQL, "explanation": "x", "intent": None, "note": 1}),
     "at note: Extra inputs are not permitted"),
    ("", "the model returned no text"),
])
def test_a_reply_breaking_the_schema_is_bad_output_naming_the_problem(text: str, message: str) -> None:
    result = generator({CHEAP: [text or " "]}).generate(MESSAGES)
    assert result.status == "bad_output" and result.answer is None and result.text == (text or " ")
    assert message in (result.error or "") and result.calls[-1].outcome == "bad_output"


def test_a_long_explanation_is_shortened_not_rejected() -> None:
    result = generator({CHEAP: [reply(SQL, "word " * 200)]}).generate(MESSAGES)
    assert result.status == "ok" and len(result.answer.explanation) == 400


def test_timeouts_are_retried_on_the_same_model_then_the_fallback_answers() -> None:
    result = generator({CHEAP: [timeout(CHEAP), timeout(CHEAP)], FALLBACK: [reply(SQL)]}).generate(MESSAGES)
    assert result.status == "ok" and result.model == FALLBACK
    assert [(c.model, c.outcome) for c in result.calls] == [
        (CHEAP, "retryable_error"), (CHEAP, "retryable_error"), (FALLBACK, "ok")]
    assert "Timeout" in (result.calls[0].error or "")


def test_a_non_retryable_provider_error_moves_to_the_next_model_at_once() -> None:
    denied = litellm.AuthenticationError(message="invalid api key", llm_provider="openai", model=CHEAP)
    gen = generator({CHEAP: [denied, reply("never used")], FALLBACK: [reply(SQL)]})
    result = gen.generate(MESSAGES)
    assert [c.outcome for c in result.calls] == ["provider_error", "ok"] and result.model == FALLBACK
    assert gen.mock_response.remaining(CHEAP) == 1


def test_no_model_answering_is_unavailable_with_every_call_recorded() -> None:
    busy = litellm.RateLimitError(message="slow down", llm_provider="openai", model=CHEAP)
    result = generator({CHEAP: [busy, busy], FALLBACK: [timeout(FALLBACK), timeout(FALLBACK)]}).generate(MESSAGES)
    assert result.status == "unavailable" and result.answer is None and len(result.calls) == 4
    assert result.error.startswith("no model answered (4 calls; last error: Timeout")
    assert result.cost_usd == 0.0


def test_complex_questions_start_with_the_strong_model() -> None:
    gen = generator({STRONG: [reply(SQL)]})
    assert gen.chain("simple") == (CHEAP, FALLBACK) and gen.chain("complex") == (STRONG, FALLBACK)
    assert gen.generate(MESSAGES, level="complex").model == STRONG
    assert generator({}, strong_model=None).chain("complex") == (CHEAP, FALLBACK)


@pytest.mark.parametrize(("question", "features", "level"), [
    ("revenue by state in march 2024", {}, "simple"),
    ("how much cash did california bring in", {}, "simple"),
    ("rank categories by revenue within each region", {}, "complex"),
    ("customers who ordered more than 3 times in 2024", {}, "complex"),
    ("revenue this year vs last year", {"windows": 2}, "complex"),
    ("revenue and profit by state and channel", {"metrics": 2, "dimensions": 2}, "complex"),
    (" ".join(["word"] * 26), {}, "complex"),
])
def test_difficulty_is_complex_only_for_the_documented_features(question: str, features: dict[str, int],
                                                                level: str) -> None:
    assert difficulty(question, **features) == level


def test_the_response_format_pins_the_json_schema_where_the_model_supports_it() -> None:
    pinned = response_format_for(CHEAP)["response_format"]
    assert pinned["type"] == "json_schema" and pinned["json_schema"]["strict"] is True
    assert pinned["json_schema"]["schema"]["required"] == ["answerable", "sql", "explanation", "intent"]
    assert response_format_for("ollama/llama3") == {"response_format": {"type": "json_object"}}


def test_the_mock_response_setting_is_returned_instead_of_calling_a_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETAIL_LLM__MOCK_RESPONSE", reply(SQL, "from the setting"))
    monkeypatch.setenv("RETAIL_LLM__MODEL", CHEAP)
    get_settings.cache_clear()
    result = Generator.from_settings(get_settings()).generate(MESSAGES)
    assert result.status == "ok" and result.answer.explanation == "from the setting" and result.model == CHEAP


def test_without_a_model_or_a_mock_the_generator_names_the_setting() -> None:
    with pytest.raises(ConfigError, match="no LLM model is configured. Set RETAIL_LLM__MODEL"):
        Generator.from_settings(get_settings())


def test_an_exhausted_script_fails_loudly_instead_of_calling_a_provider() -> None:
    with pytest.raises(ScriptExhausted, match=f"no scripted mock response left for model '{CHEAP}'"):
        generator({}).generate(MESSAGES)


def test_importing_the_assistant_does_not_import_litellm() -> None:
    code = ("import sys, assistant.factory, assistant.pipeline, assistant.llm.stage, assistant.llm.learning; "
            "print('litellm' in sys.modules)")
    root = Path(__file__).resolve().parents[3]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    assert out.stdout.strip() == "False"


def test_process_counters_record_every_call_with_its_outcome_tokens_and_cost() -> None:
    before = USAGE.snapshot()
    result = generator({CHEAP: [timeout(CHEAP), "not json"]}).generate(MESSAGES)
    after = USAGE.snapshot()
    assert after["calls"] - before["calls"] == 2
    for outcome in ("retryable_error", "bad_output"):
        assert after["events"][f"calls_{outcome}"] - before["events"].get(f"calls_{outcome}", 0) == 1
    assert after["prompt_tokens"] - before["prompt_tokens"] == result.calls[-1].prompt_tokens > 0
    assert after["cost_usd"] - before["cost_usd"] == pytest.approx(result.cost_usd)
