"""The Dask engine on an existing cluster: a `dask scheduler` and two `dask worker` processes on
loopback, started by this module and stopped by their process ids."""

from __future__ import annotations

from collections.abc import Iterator
import os
from pathlib import Path
import socket
import subprocess
import sys

import pytest

from retail_insights.errors import UsageError
from retail_insights.settings import get_settings
from spark_jobs.ingest import ingest

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``tcp://127.0.0.1:PORT`` of a scheduler with two one-thread workers (the project's code on
    their path), stopped at the end of the module."""
    from distributed import Client

    logs = tmp_path_factory.mktemp("dask-cluster")
    address = f"tcp://127.0.0.1:{_free_port()}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    dask = [sys.executable, "-m", "dask"]
    commands = [[*dask, "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                 "--no-dashboard"]]
    commands += [[*dask, "worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--nworkers", "1",
                  "--no-dashboard", "--local-directory", str(logs / f"worker-{i}")] for i in range(2)]
    started: list[subprocess.Popen] = []
    try:
        for i, command in enumerate(commands):
            with open(logs / f"process-{i}.log", "wb") as log:
                started.append(subprocess.Popen(command, env=env, cwd=logs, stdout=log,
                                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        from spark_jobs import dask_engine

        dask_engine.shutdown()  # closes this process's client of the cluster before it goes
        for proc in reversed(started):
            proc.terminate()
        for proc in started:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _stage_tasks(address: str) -> int:
    from distributed import Client

    with Client(address, timeout=30) as client:
        return client.run_on_scheduler(
            lambda dask_scheduler: sum(1 for k in dask_scheduler.task_prefixes if k.startswith("stage")))


def test_a_batch_runs_on_the_named_cluster_and_adds_up_like_the_in_process_run(
    dask_cluster: str, generated: Path, now, tmp_path: Path, use_home
) -> None:
    use_home(tmp_path / "in-process")
    local = ingest([generated], dataset="retail_sales", now=now, progress=False)
    use_home(tmp_path / "cluster")
    remote = ingest([generated], dataset="retail_sales", now=now, progress=False, dask_scheduler=dask_cluster)
    assert (local.scheduler, remote.scheduler) == ("in-process", dask_cluster)
    assert _stage_tasks(dask_cluster) >= 1  # the chunks ran on the cluster's workers
    counts = ("input_rows", "written_rows", "quarantined_rows", "duplicate_rows", "warning_rows",
              "quarantined_by_code", "touched_partitions")
    assert [getattr(remote, c) for c in counts] == [getattr(local, c) for c in counts]


def test_the_setting_sends_every_batch_to_the_cluster(
    dask_cluster: str, generated: Path, now, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RETAIL_PIPELINE__DASK_SCHEDULER", dask_cluster)
    get_settings.cache_clear()
    summary = ingest([generated], dataset="retail_sales", now=now, progress=False)
    assert (summary.scheduler, summary.input_rows) == (dask_cluster, 3000)


def test_an_address_that_is_no_scheduler_is_refused_before_the_batch(generated: Path, now) -> None:
    with pytest.raises(UsageError, match=r"'127.0.0.1:8786' is not a Dask scheduler address"):
        ingest([generated], dataset="retail_sales", now=now, progress=False, dask_scheduler="127.0.0.1:8786")
    assert not (get_settings().state_dir).exists() or not any(get_settings().state_dir.iterdir())
