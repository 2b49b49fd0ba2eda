"""``airflow standalone`` on a free loopback port: REST login, the DAG list, a real batch run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from retail_insights.airflow_local import AirflowAPI, Standalone
from retail_insights.errors import ConfigError
from retail_insights.services import free_port
from tests.dags.airflow_support import DAG_IDS

pytestmark = [pytest.mark.airflow, pytest.mark.slow]


@pytest.fixture
def standalone(tmp_path: Path, retail_home: Path):
    """Standalone with its own AIRFLOW_HOME and SQLite DB, running triggered runs only."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    base["AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE"] = "False"
    server = Standalone(home=tmp_path / "airflow", port=free_port(), env=base,
                        log=tmp_path / "standalone.log")
    server.start()
    try:
        yield server
    finally:
        group = server.proc.pid if server.proc else None
        server.stop()
        if group is not None:  # every process of the group is gone, not only the leader
            with pytest.raises(ProcessLookupError):
                os.killpg(group, 0)


@pytest.mark.timeout(1800)
def test_standalone_lists_the_dags_and_runs_the_daily_batch(standalone: Standalone,
                                                            retail_home: Path) -> None:
    from retail_insights.generator import generate

    generated = generate(rows=2000, seed=1, out=retail_home / "landing", progress=False).files
    password = standalone.wait_ready(timeout_s=900)
    with pytest.raises(ConfigError, match="refused the login of 'admin'"):
        AirflowAPI.login(standalone.url, user="admin", password=password + "-wrong")
    api = AirflowAPI.login(standalone.url, user="admin", password=password)
    listed = _wait_for_dags(api)
    assert listed == sorted(DAG_IDS)

    api.unpause("retail_daily_batch")
    run_id = api.trigger("retail_daily_batch")  # no logical date: the run claims by its run id
    state = api.wait_for_run("retail_daily_batch", run_id, timeout_s=1200)
    assert state == "success", standalone.log
    assert api.task_states("retail_daily_batch", run_id) == {
        "wait_for_files": "success", "ingest": "success", "dq_report": "success",
        "publish_bigquery": "skipped", "bump_data_version": "success",
    }
    processed = sorted((retail_home / "landing" / "processed").glob("*/*"))
    assert [p.name for p in processed] == [f.name for f in generated]
    recorded = json.loads((retail_home / "state" / "data_version.json").read_text())
    assert recorded["retail_sales"]["run_id"] == run_id
    assert recorded["retail_sales"]["version"] is not None


def _wait_for_dags(api: AirflowAPI, *, attempts: int = 150) -> list[str]:
    """The DAG processor parses the folder shortly after start; poll until every DAG is listed."""
    import time

    listed: list[str] = []
    for _ in range(attempts):
        listed = api.dag_ids()
        if set(DAG_IDS) <= set(listed):
            break
        time.sleep(2)
    return listed
