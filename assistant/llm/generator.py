"""One generation through litellm: model tiering, retries, fallbacks, timeouts and a schema-pinned answer.

litellm is imported on the first call (``LITELLM_LOCAL_MODEL_COST_MAP`` is set first, so it reads
its bundled price list instead of fetching one), so importing ``assistant`` never imports it.

Model choice (``settings.llm``): ``model`` answers ordinary questions; ``strong_model`` (when set)
answers *complex* ones, see ``difficulty``. The chain tried is the chosen model, then
``fallbacks`` in order. A provider error that may pass (timeout, rate limit, connection, 5xx) is
retried on the same model up to ``max_retries`` times; any other provider error, or the retries
running out, moves on to the next model. Every request carries ``timeout_s``.

The output is pinned by ``assistant.llm.schema``: ``response_format`` with the JSON schema where
litellm says the model supports it, plain JSON mode where only that is supported, and in every
case pydantic validation of the text. A text that does not validate is returned as
``status="bad_output"`` (the stage then runs its one repair round), not retried here.

``model="local"`` (``RETAIL_LLM__MODEL=local``) is the bundled model: ``assistant.llm.local_server``
starts llama.cpp's OpenAI-compatible server on loopback at the first call and litellm calls it as
``openai/<weights>`` with that ``api_base``. Its replies are always pinned by the full JSON schema
(llama.cpp turns it into a grammar, so the model cannot write outside it), and its requests use the
``local`` settings' timeout and token limit.

``mock_response`` is litellm's own switch: the request never leaves the process and litellm
returns the given text (or raises the given exception) with its usual usage and cost accounting.
``RETAIL_LLM__MOCK_RESPONSE`` sets one text for every call; tests pass a ``MockScript`` to give
each model its own sequence of texts and exceptions (no provider is reachable from the test machines).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
import logging
import os
import re
import threading
import time
from typing import TYPE_CHECKING, Any, Literal

from assistant.errors import AssistantError
from assistant.llm import schema
from assistant.llm.usage import USAGE
from retail_insights.errors import ConfigError

if TYPE_CHECKING:
    from retail_insights.settings import Settings

log = logging.getLogger(__name__)

Difficulty = Literal["simple", "complex"]
CallOutcome = Literal["ok", "bad_output", "retryable_error", "provider_error"]
GenerationStatus = Literal["ok", "bad_output", "unavailable"]

MOCK_MODEL = "openai/mock-model"   # the model name when only a mock response is configured
LOCAL = "local"                    # RETAIL_LLM__MODEL=local: the bundled model on a loopback server
COMPLEX_MIN_WORDS = 25
# Cue words of questions that need more than one aggregate over one filter (ranking inside groups,
# ratios of aggregates, cohorts, running figures, comparisons with an average).
COMPLEX_CUES = re.compile(
    r"\b(?:ratio|rank(?:ed|ing)?|percentile|median|cohorts?|retention|retained|repeat|returning|churn(?:ed)?"
    r"|cumulative|running\s+total|moving\s+average|rolling|than\s+(?:the\s+)?average|above\s+average"
    r"|below\s+average|of\s+those|among\s+(?:them|those)|whose|for\s+each|within\s+each|first\s+(?:order|purchase)"
    r"|never|at\s+least|more\s+than|fewer\s+than|less\s+than)\b", re.I)


class MockScript:
    """Per-model queues of litellm ``mock_response`` values (texts, or exception instances to raise).

    ``MockScript({"gpt-4o-mini": [litellm.Timeout(...)], "gpt-4o": ['{"answerable": true, ...}']})``.
    A model whose queue is empty (or missing) raises ``ScriptExhausted``: a test asked for more calls
    than it scripted.
    """

    def __init__(self, responses: Mapping[str, Sequence[str | BaseException]]) -> None:
        self._queues = {model: deque(items) for model, items in responses.items()}
        self._lock = threading.Lock()

    def next(self, model: str) -> str | BaseException:
        with self._lock:
            queue = self._queues.get(model)
            if not queue:
                raise ScriptExhausted(f"no scripted mock response left for model {model!r}.",
                                      hint=f"Scripted models: {', '.join(sorted(self._queues)) or 'none'}.")
            return queue.popleft()

    def remaining(self, model: str) -> int:
        with self._lock:
            return len(self._queues.get(model, ()))


class ScriptExhausted(AssistantError, LookupError):
    """A ``MockScript`` was asked for a response it does not have."""


@dataclass(frozen=True)
class Call:
    """One request to one model: what it cost and how it ended."""

    model: str
    outcome: CallOutcome
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    error: str | None = None


@dataclass(frozen=True)
class Generation:
    status: GenerationStatus
    answer: Any                         # the parsed reply (``output.parse``) when status == "ok"
    text: str | None                    # the model's raw text (for the repair round)
    model: str | None                   # the model that produced ``text``
    calls: tuple[Call, ...]
    error: str | None = None            # why there is no answer

    @property
    def cost_usd(self) -> float:
        return sum(c.cost_usd for c in self.calls)

    @property
    def tokens(self) -> int:
        return sum(c.prompt_tokens + c.completion_tokens for c in self.calls)


def difficulty(question: str, *, metrics: int = 0, dimensions: int = 0, windows: int = 0) -> Difficulty:
    """``complex`` when a question has any of: more than 25 words; two or more time windows; three or
    more metrics and dimensions together; a cue of nested logic (``COMPLEX_CUES``: ranks, ratios,
    cohorts, running totals, "more than", "of those", ...). Otherwise ``simple``.
    """
    if len(question.split()) > COMPLEX_MIN_WORDS or windows >= 2 or metrics + dimensions >= 3:
        return "complex"
    return "complex" if COMPLEX_CUES.search(question) else "simple"


def _litellm() -> Any:
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # read by litellm at import: no price-list download
    import litellm

    litellm.suppress_debug_info = True
    return litellm


class Generator:
    """Calls litellm with the chain of models for a difficulty; one public method, ``generate``."""

    def __init__(
        self,
        *,
        model: str,
        strong_model: str | None = None,
        fallbacks: Sequence[str] = (),
        api_key: str | None = None,
        api_base: str | Callable[[], str] | None = None,
        schema_models: Sequence[str] = (),
        timeout_s: float = 30.0,
        max_retries: int = 1,
        mock_response: str | MockScript | None = None,
        max_tokens: int = 800,
        backoff_s: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not model:
            raise ConfigError("no LLM model is configured.",
                              hint="Set RETAIL_LLM__MODEL (see docs/llm.md), or leave the LLM tier off.")
        self.model, self.strong_model, self.fallbacks = model, strong_model, tuple(fallbacks)
        self._api_key, self.api_base = api_key, api_base
        self.schema_models = frozenset(schema_models)   # always sent the full JSON schema (grammar-bound)
        self.timeout_s, self.max_retries, self.max_tokens = timeout_s, max_retries, max_tokens
        self.mock_response = mock_response
        self.backoff_s, self._sleep = backoff_s, sleep
        self.server: Any = None     # the LocalServer behind model "local" (started on the first call)

    @classmethod
    def from_settings(cls, settings: Settings, *, mock_response: str | MockScript | None = None) -> Generator:
        llm = settings.llm
        mock = mock_response if mock_response is not None else llm.mock_response
        if llm.model == LOCAL:
            from assistant.llm.local_server import LocalServer

            server = LocalServer.from_settings(settings)
            generator = cls(model=server.model, fallbacks=llm.fallbacks, api_key="none", api_base=server.api_base,
                            schema_models=(server.model,), timeout_s=llm.local.timeout_s,
                            max_retries=llm.max_retries, max_tokens=llm.local.max_tokens, mock_response=mock)
            generator.server = server
            return generator
        return cls(model=llm.model or (MOCK_MODEL if mock is not None else ""), strong_model=llm.strong_model,
                   fallbacks=llm.fallbacks,
                   api_key=llm.api_key.get_secret_value() if llm.api_key else None, api_base=llm.api_base,
                   timeout_s=llm.timeout_s, max_retries=llm.max_retries,
                   mock_response=mock)

    def close(self) -> None:
        """Stop the local model server if this process started it."""
        if self.server is not None:
            self.server.stop()

    def chain(self, level: Difficulty) -> tuple[str, ...]:
        """The models tried, in order, for a question of this difficulty."""
        first = self.strong_model if level == "complex" and self.strong_model else self.model
        return tuple(dict.fromkeys((first, *self.fallbacks)))

    def generate(self, messages: Sequence[Mapping[str, str]], *, level: Difficulty = "simple",
                 output: schema.Output = schema.SQL_OUTPUT) -> Generation:
        """The first ``output``-valid answer along ``chain(level)``, or why there is none."""
        litellm = _litellm()
        calls: list[Call] = []
        for position, model in enumerate(self.chain(level)):
            if position:
                USAGE.add("fallbacks")
            for attempt in range(self.max_retries + 1):
                if attempt:
                    USAGE.add("retries")
                    self._sleep(self.backoff_s * 2 ** (attempt - 1))
                call, text = self._call(litellm, model, messages, output)
                if call.outcome == "ok":
                    try:
                        answer = output.parse(text)
                    except schema.BadModelOutput as exc:
                        calls.append(_counted(_with_outcome(call, "bad_output", str(exc))))
                        return Generation("bad_output", None, text, model, tuple(calls), error=str(exc))
                    calls.append(_counted(call))
                    return Generation("ok", answer, text, model, tuple(calls))
                calls.append(_counted(call))
                if call.outcome != "retryable_error":
                    break   # auth, bad request, unknown model...: the next model, not the same again
        last = calls[-1].error if calls else "no model configured"
        return Generation("unavailable", None, None, None, tuple(calls),
                          error=f"no model answered ({len(calls)} calls; last error: {last})")

    # --- one request ----------------------------------------------------------------------------
    def _call(self, litellm: Any, model: str, messages: Sequence[Mapping[str, str]],
              output: schema.Output) -> tuple[Call, str | None]:
        kwargs: dict[str, Any] = dict(model=model, messages=[dict(m) for m in messages], timeout=self.timeout_s,
                                      temperature=0, max_tokens=self.max_tokens, drop_params=True)
        if model in self.schema_models:
            kwargs["response_format"] = output.response_format()
        else:
            kwargs.update(response_format_for(model, output))
        if self._api_key:
            kwargs["api_key"] = self._api_key
        mock = self.mock_response.next(model) if isinstance(self.mock_response, MockScript) else self.mock_response
        if mock is not None:
            kwargs["mock_response"] = mock
        try:
            if callable(self.api_base):
                if mock is None:       # a mocked call never starts the local server
                    kwargs["api_base"] = self.api_base()
            elif self.api_base:
                kwargs["api_base"] = self.api_base
            response = litellm.completion(**kwargs)
        except Exception as exc:  # noqa: BLE001 - every provider failure is a reason to try the next model
            retryable = isinstance(exc, _retryable(litellm))
            name = type(exc).__name__
            log.warning("LLM call to %s failed (%s%s)", model, name, ", will retry" if retryable else "")
            outcome: CallOutcome = "retryable_error" if retryable else "provider_error"
            return Call(model, outcome, error=f"{name}: {_short(exc)}"), None
        usage = getattr(response, "usage", None)
        call = Call(model, "ok", prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
                    completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
                    cost_usd=_cost(litellm, response))
        return call, response.choices[0].message.content


def response_format_for(model: str, output: schema.Output = schema.SQL_OUTPUT) -> dict[str, Any]:
    """The ``response_format`` request option for ``model``: the JSON schema where litellm says the model
    supports it, plain JSON mode where only that is supported, else none (the prompt still asks for JSON)."""
    litellm = _litellm()
    try:
        if litellm.supports_response_schema(model=model):
            return {"response_format": output.response_format()}
        if "response_format" in (litellm.get_supported_openai_params(model=model) or ()):
            return {"response_format": {"type": "json_object"}}
    except Exception:  # noqa: BLE001 - an unknown model: ask for JSON in the prompt only
        log.debug("no response_format for %s", model, exc_info=True)
    return {}


def _retryable(litellm: Any) -> tuple[type[BaseException], ...]:
    names = ("Timeout", "RateLimitError", "APIConnectionError", "ServiceUnavailableError", "InternalServerError")
    return tuple(getattr(litellm, n) for n in names if hasattr(litellm, n))


def _cost(litellm: Any, response: Any) -> float:
    try:
        return float(litellm.completion_cost(completion_response=response) or 0.0)
    except Exception:  # noqa: BLE001 - a model without a price (a local server) costs nothing we can know
        return 0.0


def _counted(call: Call) -> Call:
    USAGE.add_call(model=call.model, outcome=call.outcome, prompt_tokens=call.prompt_tokens,
                   completion_tokens=call.completion_tokens, cost_usd=call.cost_usd)
    return call


def _with_outcome(call: Call, outcome: CallOutcome, error: str) -> Call:
    return Call(call.model, outcome, call.prompt_tokens, call.completion_tokens, call.cost_usd, error)


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] + ("..." if len(text) > 200 else "")
