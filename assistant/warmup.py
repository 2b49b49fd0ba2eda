"""Warm-up: load, before traffic, everything the first questions would otherwise wait for.

``warm_up(assistant, datasets=, questions=)`` runs, per dataset: the open dimensions' values (the
vocabulary), one example question (which opens the warehouse snapshot and builds the SQL guard's
schema), the embedding model and vector index of the semantic tier; then answers the most asked
questions of the query log (``assistant.querylog``) so their answers sit in the cache. Each step is
timed; a failing step is logged and recorded, never fatal (a dataset not loaded yet is warmed by its
first question).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
import logging
import time
from typing import TYPE_CHECKING, Any

from warehouse.spec import load_dataset

if TYPE_CHECKING:
    from assistant.querylog import Asked

log = logging.getLogger(__name__)


@dataclass
class WarmUp:
    seconds: dict[str, float] = field(default_factory=dict)   # step -> seconds it took
    failed: dict[str, str] = field(default_factory=dict)      # step -> why
    primed: int = 0                                            # query-log questions answered

    @property
    def total_s(self) -> float:
        return round(sum(self.seconds.values()), 3)

    def step(self, name: str, work: Callable[[], Any]) -> None:
        started = time.perf_counter()
        try:
            work()
        except Exception as exc:  # noqa: BLE001 - warm-up is best effort; the question path reports errors
            self.failed[name] = f"{type(exc).__name__}: {exc}"
            log.warning("warm-up step %s failed: %s", name, exc)
        self.seconds[name] = round(time.perf_counter() - started, 3)


def warm_up(assistant: Any, *, datasets: Sequence[str], questions: Sequence[Asked] = ()) -> WarmUp:
    """Warm ``assistant`` for ``datasets``, then answer ``questions`` ((dataset, question, pinned day or
    None) as ``QueryLog.top_questions`` gives them)."""
    report = WarmUp()
    for dataset in datasets:
        report.step(f"values:{dataset}",
                    lambda d=dataset: assistant.vocabulary_for(d, assistant.data_version(d)))
        examples = load_dataset(dataset).semantic.examples
        if examples:
            report.step(f"warehouse:{dataset}", lambda d=dataset, q=examples[0]: _answered(assistant, q, d))
        warm = getattr(assistant.semantic, "warm", None)
        if warm is not None:
            report.step(f"semantic:{dataset}", lambda d=dataset, w=warm: w(d))

    def prime() -> None:
        for dataset, question, as_of in questions:
            if dataset in datasets:
                assistant.answer(question, dataset=dataset, as_of=as_of)
                report.primed += 1

    if questions:
        report.step("query log", prime)
    return report


def _answered(assistant: Any, question: str, dataset: str) -> None:
    answer = assistant.answer(question, dataset=dataset)
    if answer.status == "error":
        raise RuntimeError(answer.error or answer.answer)
