"""The composition root: every stage of the assistant built from settings, in one place.

``build_assistant(settings)`` wires the warehouse backend (``warehouse.backends.get_backend``), the
data version of each dataset's silver table (its last data-changing Delta commit) and of the months
an answer reads (``assistant.scope``, what answers are cached under), looked-up values
of open dimensions, the exact cache (L1 + Redis when configured), the semantic tier (built lazily,
so the embedding model loads only when first needed), the LLM tier (``assistant.llm.stage.LLMStage``, when ``settings.llm.model``
or ``settings.llm.mock_response`` is set) and the conversation store.
"""

from __future__ import annotations

from functools import lru_cache
import logging
from typing import Any

from assistant.conversation import conversations_from_settings
from assistant.pipeline import Assistant
from assistant.scope import AnswerScope
from assistant.values import ValueCatalog
from retail_insights.settings import Settings, get_settings
from warehouse.spec import load_dataset

log = logging.getLogger(__name__)


def data_version_reader(settings: Settings):
    """dataset -> the last Delta commit that changed its silver table's data (None before the first load).

    Answers are cached under this number, so OPTIMIZE, Z-order and VACUUM commits keep the cache;
    the version is listed from the Delta log at most every ``settings.cache.version_ttl_s`` and is
    the same reader the DuckDB backend uses, so a cache key never runs ahead of the data queried.
    """
    from warehouse.backends.versions import shared_reader

    paths = {name: settings.table_path(name, load_dataset(name).spec.silver_table) for name in _all()}

    def read(dataset: str) -> int | None:
        path = paths.get(dataset) or settings.table_path(dataset, load_dataset(dataset).spec.silver_table)
        version = shared_reader().read(path)
        return None if version is None else version.data

    return read


def runner_factory(settings: Settings, data_version: Any):
    """dataset -> the configured warehouse backend for it (one per dataset, opened on first use).

    ``data_version`` is unused: backends track the Delta version themselves. There is no
    fallback: a missing ``warehouse.backends`` fails here (ModuleNotFoundError), an unknown
    backend name on first use (UsageError with "Did you mean").
    """
    from warehouse.backends import get_backend

    backends: dict[str, Any] = {}

    def backend_for(dataset: str) -> Any:
        if dataset not in backends:
            backends[dataset] = get_backend(settings.backend, dataset=dataset)
        return backends[dataset]

    return backend_for


def _all() -> list[str]:
    from warehouse.spec import dataset_names

    return dataset_names()


class _LazySemantic:
    """Builds the SemanticMatcher (and its embedding model) on first use; a failure disables the tier.

    With ``learn=False`` (the one-shot CLI) remembering never loads the model by itself: only a
    question the rules cannot answer does, so ``ask`` stays fast for the usual question.
    """

    def __init__(self, settings: Settings, *, learn: bool = True) -> None:
        self._settings = settings
        self._learn = learn
        self._matcher: Any = None
        self._failed = False

    def _get(self) -> Any:
        if self._matcher is None and not self._failed:
            try:
                from assistant.semantic import SemanticMatcher

                self._matcher = SemanticMatcher.from_settings(self._settings)
            except Exception:
                log.warning("semantic tier unavailable; continuing without it", exc_info=True)
                self._failed = True
        return self._matcher

    def warm(self, dataset: str) -> None:
        matcher = self._get()
        if matcher is not None:
            matcher.warm(dataset)

    def match(self, *args: Any, **kwargs: Any) -> Any:
        matcher = self._get()
        return matcher.match(*args, **kwargs) if matcher is not None else None

    def remember(self, *args: Any, **kwargs: Any) -> None:
        if not self._learn and self._matcher is None:
            return
        matcher = self._get()
        if matcher is not None:
            matcher.remember(*args, **kwargs)


def build_assistant(settings: Settings | None = None, *, semantic: bool = True, learn: bool = True,
                    cache: bool = True, llm: Any = None, serving: bool = False) -> Assistant:
    """The assistant with every stage from ``settings`` (default: ``get_settings()``).

    ``semantic=False`` leaves the semantic tier out; ``learn=False`` keeps it from loading the
    embedding model just to remember rule-answered questions (see ``_LazySemantic``). ``serving``
    (the HTTP service) reads questions with the previous load's values while a new load's are looked
    up (``ValueCatalog``'s stale-while-revalidate).
    """
    settings = settings or get_settings()
    version = data_version_reader(settings)
    runner_for = runner_factory(settings, version)
    values = ValueCatalog(runner_for, stale_while_revalidate=serving)
    matcher = _LazySemantic(settings, learn=learn) if semantic else None
    if llm is None and (settings.llm.model or settings.llm.mock_response is not None):
        from assistant.llm.stage import LLMStage   # litellm itself is imported on the first call

        llm = LLMStage.from_settings(settings, runner_for=runner_for, semantic=matcher)
    exact = None
    if cache:
        from assistant.cache import ExactCache

        exact = ExactCache.from_settings(settings)
    return Assistant(
        runner_for=runner_for,
        data_version=version,
        vocabulary_for=lambda dataset, v: values.vocabulary(dataset, data_version=v),
        cache=exact,
        semantic=matcher,
        llm=llm,
        conversations=conversations_from_settings(settings),
        max_question_chars=settings.llm.max_question_chars,
        refresh_ahead=serving,
        scope=AnswerScope(settings),
    )


@lru_cache(maxsize=1)
def default_assistant() -> Assistant:
    """One assistant per process for the CLI and the HTTP server."""
    return build_assistant()
