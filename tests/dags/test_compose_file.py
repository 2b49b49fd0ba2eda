"""docker-compose.airflow.yml, as Debian's docker-compose (v1.29, no engine needed) reads it."""

from __future__ import annotations

import os
from pathlib import Path
import shutil
import subprocess

import pytest
import yaml

from tests.dags.airflow_support import PROJECT_ROOT

COMPOSE_FILE = PROJECT_ROOT / "docker-compose.airflow.yml"
AIRFLOW = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer")
MONITORING = ("statsd-exporter", "prometheus", "grafana")
LONG_RUNNING = (*AIRFLOW, "postgres", "redis", "kafka", "assistant-api", "assistant-worker", *MONITORING)
ONE_SHOT = ("retail-install", "airflow-init")


def docker_compose() -> str:
    """The docker-compose binary; installed from Debian's package when missing (test setup)."""
    found = shutil.which("docker-compose")
    if found is None:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "docker-compose"], check=True, env=env,
                       capture_output=True)
        found = shutil.which("docker-compose")
    assert found, "docker-compose is not installed and apt-get could not install it"
    return found


@pytest.fixture(scope="module")
def env_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("compose") / "retail.env"
    path.write_text("RETAIL_LLM__MODEL=\n")
    return path


def compose_config(env_file: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    ours = ("AIRFLOW", "RETAIL_", "POSTGRES")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    env["RETAIL_ENV_FILE"] = str(env_file)
    argv = [docker_compose(), "-f", str(COMPOSE_FILE), "--project-directory", str(PROJECT_ROOT),
            "config", *extra]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def config(env_file: Path) -> dict:
    done = compose_config(env_file)
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)


def test_compose_file_is_valid_for_docker_compose(env_file: Path) -> None:
    done = compose_config(env_file, "--quiet")
    assert done.returncode == 0, done.stderr


def test_a_missing_env_file_is_reported_by_name(tmp_path: Path) -> None:
    done = compose_config(tmp_path / "absent.env")
    assert done.returncode != 0
    assert "absent.env" in done.stderr


def test_compose_runs_airflow_postgres_kafka_redis_and_the_assistant(config: dict) -> None:
    assert set(config["services"]) == {*LONG_RUNNING, *ONE_SHOT}


def test_long_running_services_have_healthchecks_and_one_shots_do_not_restart(config: dict) -> None:
    services = config["services"]
    for name in LONG_RUNNING:
        assert services[name]["healthcheck"]["test"], name
        assert services[name]["restart"] == "unless-stopped", name
    for name in ONE_SHOT:
        assert services[name]["restart"] == "no", name


def test_services_start_in_order_install_then_migrate_then_airflow(config: dict) -> None:
    services = config["services"]
    assert services["airflow-init"]["depends_on"] == {
        "retail-install": {"condition": "service_completed_successfully"},
        "postgres": {"condition": "service_healthy"},
    }
    for name in AIRFLOW:
        after = services[name]["depends_on"]["airflow-init"]
        assert after == {"condition": "service_completed_successfully"}
    for name in ("assistant-api", "assistant-worker"):
        assert services[name]["depends_on"]["redis"] == {"condition": "service_healthy"}


def test_airflow_uses_postgres_a_shared_jwt_secret_and_the_mounted_dags(config: dict) -> None:
    for name in (*AIRFLOW, "airflow-init"):
        service = config["services"][name]
        env = service["environment"]
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
        assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/retail/dags"
        execution_api = env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"]
        assert execution_api == "http://airflow-apiserver:8080/execution/"
        assert env["AIRFLOW__API_AUTH__JWT_SECRET"]
        assert f"{PROJECT_ROOT}:/opt/retail:rw" in service["volumes"]


def test_settings_come_from_the_env_file_and_service_addresses_from_compose(config: dict) -> None:
    for name in (*AIRFLOW, "assistant-api", "assistant-worker"):
        env = config["services"][name]["environment"]
        assert "RETAIL_LLM__MODEL" in env  # read from the env file
        assert env["RETAIL_REDIS__URL"] == "redis://redis:6379/0"
        assert env["RETAIL_KAFKA__BOOTSTRAP"] == "kafka:9092"
        assert env["RETAIL_HOME"] == "/data/retail"


def test_kafka_is_a_single_kraft_node(config: dict) -> None:
    env = config["services"]["kafka"]["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka:9093"
    assert "ZOOKEEPER" not in " ".join(env)


def test_the_assistant_api_and_its_worker_run_the_project_commands(config: dict) -> None:
    services = config["services"]
    assert services["assistant-api"]["command"] == ["retail-insights", "serve", "--host", "0.0.0.0",
                                                    "--port", "8000"]
    assert services["assistant-worker"]["command"] == ["python", "-m", "assistant.http.worker"]


def test_published_ports_listen_on_loopback_only(config: dict) -> None:
    published = {name: s.get("ports", []) for name, s in config["services"].items()}
    exposed = {name for name, ports in published.items() if ports}
    assert exposed == {"airflow-apiserver", "assistant-api", "grafana", "prometheus"}
    for ports in published.values():
        assert all(str(p).startswith("127.0.0.1:") for p in ports)


def test_prometheus_loads_the_repository_rules_and_scrapes_the_api_and_the_statsd_exporter(config: dict) -> None:
    prometheus = config["services"]["prometheus"]
    assert f"{PROJECT_ROOT / 'monitoring' / 'prometheus'}:/etc/prometheus:ro" in prometheus["volumes"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    scraped = yaml.safe_load((PROJECT_ROOT / "monitoring" / "prometheus" / "prometheus.yml").read_text())
    targets = {t for job in scraped["scrape_configs"] for c in job["static_configs"] for t in c["targets"]}
    assert {"assistant-api:8000", "statsd-exporter:9102"} <= targets
    assert scraped["rule_files"] == ["alerts.yml"]


def test_grafana_is_provisioned_from_the_repository_dashboards(config: dict) -> None:
    grafana = config["services"]["grafana"]
    assert f"{PROJECT_ROOT / 'monitoring' / 'grafana' / 'provisioning'}:/etc/grafana/provisioning:ro" in grafana["volumes"]
    assert f"{PROJECT_ROOT / 'monitoring' / 'grafana' / 'dashboards'}:/etc/grafana/dashboards:ro" in grafana["volumes"]
    assert grafana["depends_on"]["prometheus"] == {"condition": "service_healthy"}


def test_airflow_sends_statsd_to_the_exporter_with_the_repository_mapping(config: dict) -> None:
    services = config["services"]
    for name in AIRFLOW:
        env = services[name]["environment"]
        assert (env["AIRFLOW__METRICS__STATSD_ON"], env["AIRFLOW__METRICS__STATSD_HOST"]) == ("True", "statsd-exporter")
        assert env["AIRFLOW__METRICS__STATSD_PORT"] == "9125"
    exporter = services["statsd-exporter"]
    assert "--statsd.mapping-config=/etc/statsd/airflow_mapping.yml" in exporter["command"]
    assert f"{PROJECT_ROOT / 'monitoring' / 'statsd'}:/etc/statsd:ro" in exporter["volumes"]
