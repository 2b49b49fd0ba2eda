"""The DAG files parse cleanly, cheaply and offline, and carry their scheduling contract."""

from __future__ import annotations

import json
from pathlib import Path
import subprocess
import sys

import pytest

from tests.dags.airflow_support import DAG_IDS, DAGS_FOLDER, airflow_environment

pytestmark = pytest.mark.airflow

# Parsing runs in a fresh interpreter, where sys.modules shows what the DAG files import.
PARSE_PROBE = r"""
import json, socket, sys
from airflow.dag_processing.dagbag import DagBag

attempts = []
def refuse(*args, **kwargs):
    attempts.append(repr(args[1:] or args))
    raise ConnectionRefusedError("no connections while parsing DAG files")
socket.socket.connect = socket.socket.connect_ex = refuse
socket.create_connection = refuse

before = set(sys.modules)
bag = DagBag(dag_folder=sys.argv[1])
heavy = ("pyspark", "kafka", "google", "torch", "dask", "deltalake", "duckdb", "redis", "pandas",
         "sentence_transformers", "spark_jobs", "warehouse", "assistant", "streaming", "dq")
loaded = sorted(m for m in set(sys.modules) - before if m.split(".")[0] in heavy)
errors = {k: str(v) for k, v in bag.import_errors.items()}
print(json.dumps({"dag_ids": sorted(bag.dag_ids), "errors": errors, "connections": attempts,
                  "heavy": loaded}))
"""


@pytest.fixture(scope="module")
def parse_probe(tmp_path_factory: pytest.TempPathFactory) -> dict:
    home = tmp_path_factory.mktemp("parse-home")
    env = {"PATH": str(Path(sys.executable).parent), **airflow_environment(home)}
    done = subprocess.run([sys.executable, "-c", PARSE_PROBE, str(DAGS_FOLDER)], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def dagbag(airflow_env: Path):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_FOLDER))


def test_dag_folder_parses_without_import_errors(parse_probe: dict) -> None:
    assert parse_probe["errors"] == {}
    assert set(parse_probe["dag_ids"]) == DAG_IDS


def test_parsing_opens_no_connection(parse_probe: dict) -> None:
    assert parse_probe["connections"] == []


def test_parsing_imports_no_pipeline_or_heavy_module(parse_probe: dict) -> None:
    assert parse_probe["heavy"] == []


@pytest.mark.parametrize("dag_id", sorted(DAG_IDS))
def test_every_dag_has_tags_retries_docs_and_no_catchup(dagbag, dag_id: str) -> None:
    dag = dagbag.dags.get(dag_id)
    assert dag.tags
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    assert dag.doc_md and dag.doc_md.strip().startswith("###")
    for task in dag.tasks:
        assert task.retries >= 1, task.task_id


def test_daily_batch_waits_in_reschedule_mode_with_a_bounded_timeout(dagbag) -> None:
    sensor = dagbag.dags.get("retail_daily_batch").get_task("wait_for_files")
    assert sensor.mode == "reschedule"
    assert 0 < sensor.timeout <= 12 * 3600


def test_daily_batch_runs_its_steps_in_order(dagbag) -> None:
    dag = dagbag.dags.get("retail_daily_batch")
    order = ["wait_for_files", "ingest", "dq_report", "publish_bigquery", "bump_data_version"]
    for upstream, downstream in zip(order, order[1:]):
        assert downstream in dag.get_task(upstream).downstream_task_ids
    # Publishing is skipped without BigQuery; the version must still be bumped.
    assert dag.get_task("bump_data_version").trigger_rule == "none_failed"


def test_the_views_dag_is_scheduled_on_the_asset_the_batch_produces_or_hourly(dagbag) -> None:
    from airflow.serialization.serialized_objects import DagSerialization

    produced = {a.uri for a in dagbag.dags.get("retail_daily_batch").get_task("ingest").outlets}
    serialized = DagSerialization.to_dict(dagbag.dags.get("retail_views_hourly"))["dag"]
    timetable = serialized["timetable"]
    assert timetable["__type"].endswith("AssetOrTimeSchedule")
    assert "0 * * * *" in json.dumps(timetable["__var"]["timetable"])
    consumed = {ref["uri"] for ref in _assets(timetable["__var"]["asset_condition"])}
    assert produced == consumed == {"retail://retail_sales/sales"}


def _assets(node: dict) -> list[dict]:
    if node.get("__type") == "asset":
        return [node]
    return [a for child in node.get("objects", []) for a in _assets(child)]
