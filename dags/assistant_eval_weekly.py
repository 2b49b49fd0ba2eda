"""
### Assistant evaluation, weekly

Asks the assistant every question of the golden sets (`assistant/golden/*.yaml`, or the files in
the `golden_sets` param) against the current warehouse and compares the answers with the expected
ones (`assistant.eval`). The run **fails** when any category's accuracy is below the threshold:
the `min_accuracy` param of a manual run, else `RETAIL_EVAL__MIN_ACCURACY` (default 0.95). The
threshold applies per category because a regression in one kind of question (say, rankings) would
hide inside a good overall score.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import logging
from typing import Any

from airflow.sdk import CronTriggerTimetable, Param, dag, task

log = logging.getLogger(__name__)

DEFAULT_ARGS = {
    "owner": "retail-insights",
    "retries": 1,  # for a warehouse hiccup; an accuracy drop fails at once
    "retry_delay": timedelta(minutes=10),
}


@dag(
    dag_id="assistant_eval_weekly",
    schedule=CronTriggerTimetable("0 4 * * 1", timezone="UTC"),
    start_date=datetime(2025, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=2),
    default_args=DEFAULT_ARGS,
    params={
        "min_accuracy": Param(
            None, type=["null", "number"], minimum=0, maximum=1,
            description="per-category accuracy to reach; empty = the configured one"),
        "golden_sets": Param([], type="array", items={"type": "string"},
                             description="golden-set files; empty = every shipped set"),
    },
    tags=["assistant", "eval", "quality"],
    doc_md=__doc__,
)
def assistant_eval_weekly() -> None:
    @task
    def run_golden_sets(params: Any = None) -> dict[str, Any]:
        from pathlib import Path

        from airflow.sdk.exceptions import AirflowFailException

        from assistant.eval import GOLDEN_DIR, format_report, run_golden
        from assistant.factory import build_assistant
        from retail_insights.settings import get_settings

        params = params or {}
        threshold = params.get("min_accuracy")
        threshold = get_settings().eval.min_accuracy if threshold is None else float(threshold)
        files = ([Path(p) for p in params.get("golden_sets") or []]
                 or sorted(GOLDEN_DIR.glob("*.yaml")))
        # The exact and compiled tiers: no embedding model to download on a scheduler.
        assistant = build_assistant(semantic=False)
        results: dict[str, Any] = {}
        below: list[str] = []
        for path in files:
            report = run_golden(assistant, path)
            log.info("%s", format_report(report))
            accuracy = {c: passed / total for c, (passed, total) in report.by_category.items()}
            results[path.name] = {"dataset": report.dataset, "accuracy": report.accuracy,
                                  "by_category": accuracy, "total": report.total}
            below += [f"{path.name}:{c} {a:.1%}" for c, a in accuracy.items() if a < threshold]
            if not report.total:
                below.append(f"{path.name}: no questions")
        if below:
            raise AirflowFailException(
                f"golden-set accuracy below {threshold:.1%} in: {', '.join(below)}")
        return {"threshold": threshold, "sets": results}

    run_golden_sets()


assistant_eval_weekly()
