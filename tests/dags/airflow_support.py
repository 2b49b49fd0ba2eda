"""Helpers for the Airflow tests: an isolated environment, running a DAG with ``dag.test()``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from retail_insights.settings import get_settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DAGS_FOLDER = PROJECT_ROOT / "dags"
DAG_IDS = {"retail_daily_batch", "retail_views_hourly", "retail_maintenance",
           "retail_streaming_health", "assistant_eval_weekly"}


def airflow_environment(home: Path) -> dict[str, str]:
    """What an isolated Airflow needs: its home, our DAGs, SQLite, no examples, 2 task slots."""
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        # Unpaused like a deployed DAG, so an asset event queues the consumer DAG.
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
    }


@dataclass(frozen=True)
class DagRunResult:
    dag_id: str
    run_id: str
    state: str
    task_states: dict[str, str | None]
    xcoms: dict[str, Any]  # task_id -> return value


def run_dag(dag_id: str, *, logical_date: datetime | None = None,
            conf: dict[str, Any] | None = None) -> DagRunResult:
    """Run one DAG of the project end to end in this process with ``dag.test()``."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    bag = DagBag(dag_folder=str(DAGS_FOLDER))
    assert not bag.import_errors, bag.import_errors
    get_settings.cache_clear()  # the tasks read RETAIL_HOME as the test set it
    run = bag.dags[dag_id].test(logical_date=logical_date or datetime.now(UTC), run_conf=conf)
    with create_session() as session:
        tis = session.query(TaskInstance).filter_by(dag_id=dag_id, run_id=run.run_id).all()
        states = {ti.task_id: _state(ti.state) for ti in tis}
        query = XComModel.get_many(run_id=run.run_id, dag_ids=dag_id, key="return_value")
        rows = session.scalars(query)
        xcoms = {row.task_id: XComModel.deserialize_value(row) for row in rows}
    return DagRunResult(dag_id, run.run_id, str(run.state), states, xcoms)


def _state(state: Any) -> str | None:
    return None if state is None else str(getattr(state, "value", state))


def silver_path() -> Path:
    return get_settings().table_path("retail_sales", "sales")


def commit_correction() -> tuple[int, int]:
    """Commit a newer version of three orders of the largest partition, which then has two files."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from warehouse.delta import commit_table, open_table

    table = open_table(silver_path())
    data = table.to_pyarrow_table()
    counts = data.group_by(["year", "month"]).aggregate([("order_id", "count")])
    top = counts.sort_by([("order_id_count", "descending")]).slice(0, 1).to_pylist()[0]
    part = (top["year"], top["month"])
    rows = data.filter((pc.field("year") == part[0]) & (pc.field("month") == part[1])).slice(0, 3)
    later = pc.add(rows["updated_at"], pa.scalar(timedelta(seconds=1)))
    rows = rows.set_column(rows.schema.get_field_index("updated_at"), "updated_at", later)
    commit_table(silver_path(), rows, schema=pa.schema(table.schema().to_arrow()),
                 key=("order_id",), app_id="test-correction", app_version=1)
    return part
