"""monitoring/statsd/airflow_mapping.yml against what Airflow really sends.

Airflow's own metrics code, configured as the compose file configures it (``metrics.statsd_on``, host,
port, prefix ``airflow``), sends to a UDP socket on loopback; the datagrams are read back and matched
with the StatsD exporter's glob rules (``*`` is one dot-separated part). The exporter cannot run here,
so its matching is rebuilt for these globs; the names Airflow sends are Airflow's.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
import re
import socket

import pytest
import yaml

from tests.monitoring.promql import MONITORING, metric_names, rules

pytestmark = pytest.mark.airflow
MAPPING = MONITORING / "statsd" / "airflow_mapping.yml"


def mapped(stat: str) -> tuple[str, dict[str, str]] | None:
    """(Prometheus name, labels) the first matching glob gives ``stat``; None when none matches."""
    for rule in yaml.safe_load(MAPPING.read_text())["mappings"]:
        pattern = "^" + r"\.".join("([^.]+)" if part == "*" else re.escape(part)
                                   for part in rule["match"].split(".")) + "$"
        found = re.match(pattern, stat)
        if found:
            labels = {k: re.sub(r"\$(\d+)", lambda m: found.group(int(m.group(1))), v)
                      for k, v in rule.get("labels", {}).items()}
            return rule["name"], labels
    return None


@pytest.fixture
def airflow_statsd(airflow_home, monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    """Airflow's stats module sending StatsD to a loopback socket, set up the way Airflow's jobs do it."""
    from airflow._shared.observability.metrics import stats
    from airflow.configuration import conf
    from airflow.observability.metrics import stats_utils

    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5)
    for key, value in {"STATSD_ON": "True", "STATSD_HOST": "127.0.0.1", "STATSD_PREFIX": "airflow",
                       "STATSD_PORT": str(receiver.getsockname()[1])}.items():
        monkeypatch.setenv(f"AIRFLOW__METRICS__{key}", value)
    saved = (stats._factory, stats._backend, stats._export_legacy_names)
    stats.initialize(factory=stats_utils.get_stats_factory(),
                     export_legacy_names=conf.getboolean("metrics", "legacy_names_on"))
    yield receiver
    stats._factory, stats._backend, stats._export_legacy_names = saved
    receiver.close()


def received(receiver: socket.socket, count: int) -> list[str]:
    """``count`` StatsD lines' names (``name:value|type``)."""
    names: list[str] = []
    while len(names) < count:
        names += [line.split(":", 1)[0] for line in receiver.recv(65536).decode().splitlines()]
    return names


def test_a_failed_dag_run_and_task_map_to_the_names_the_alert_rules_read(airflow_statsd: socket.socket) -> None:
    from airflow._shared.observability.metrics import stats

    # As airflow/models/dagrun.py and the task runner emit them (legacy and tagged names both).
    stats.timing("dagrun.duration.failed", dt=timedelta(seconds=42), tags={"dag_id": "retail_daily_batch"})
    stats.incr("ti.finish", tags={"dag_id": "retail_daily_batch", "task_id": "ingest", "state": "failed"})
    sent = received(airflow_statsd, 4)
    assert "airflow.dagrun.duration.failed.retail_daily_batch" in sent
    assert mapped("airflow.dagrun.duration.failed.retail_daily_batch") == (
        "airflow_dagrun_duration_seconds", {"state": "failed", "dag_id": "retail_daily_batch"})
    assert mapped("airflow.ti.finish.retail_daily_batch.ingest.failed") == (
        "airflow_ti_finish_total", {"dag_id": "retail_daily_batch", "task_id": "ingest", "state": "failed"})
    assert "airflow.ti.finish.retail_daily_batch.ingest.failed" in sent
    # The tagged names have fewer parts and fall through to the exporter's default naming.
    assert mapped("airflow.dagrun.duration.failed") is None


def test_the_airflow_metrics_the_rules_read_are_what_the_mapping_makes() -> None:
    names = {m["name"] for m in yaml.safe_load(MAPPING.read_text())["mappings"]}
    summaries = {f"{name}{suffix}" for name in names for suffix in ("", "_sum", "_count")}
    airflow = {name for rule in rules() for name in metric_names(rule["expr"]) if name.startswith("airflow_")}
    assert airflow == {"airflow_dagrun_duration_seconds_count"}
    assert airflow <= summaries
