"""A Spark standalone cluster (one master, one worker) on loopback, from the pip pyspark.

For tests and local runs of ``--engine spark --spark-master spark://127.0.0.1:PORT``: the
processes are started with pyspark's own ``bin/spark-class``, bind 127.0.0.1 only, log into
``work_dir``, and are stopped (their process group) on exit. Readiness is the master's JSON
status page listing the worker as ALIVE.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
import json
import os
from pathlib import Path
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from retail_insights.errors import RetryableError, UsageError

_LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class StandaloneCluster:
    master_url: str  # spark://127.0.0.1:PORT
    web_url: str  # the master's status page
    work_dir: Path
    processes: tuple[subprocess.Popen, ...]

    def stop(self, *, timeout_s: float = 20.0) -> None:
        """Stop the worker, then the master (SIGTERM to each process group, then SIGKILL)."""
        for proc in reversed(self.processes):
            _stop(proc, timeout_s=timeout_s)


def spark_home() -> Path:
    """The pip pyspark folder, which holds ``bin/spark-class`` and the jars."""
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def start(
    *, work_dir: Path, cores: int = 2, memory: str = "2g", timeout_s: float = 90.0
) -> StandaloneCluster:
    """Start a master and one worker on free loopback ports; return once the worker registered."""
    if cores < 1:
        raise UsageError(f"cores must be >= 1, got {cores}.", hint="Pass cores=1 or more.")
    work_dir.mkdir(parents=True, exist_ok=True)
    port, web_port, worker_web_port = _free_port(), _free_port(), _free_port()
    master_url, web_url = f"spark://{_LOOPBACK}:{port}", f"http://{_LOOPBACK}:{web_port}"
    env = {
        **os.environ,
        "SPARK_HOME": str(spark_home()),
        "SPARK_LOCAL_IP": _LOOPBACK,
        "SPARK_LOG_DIR": str(work_dir),
        "PYSPARK_PYTHON": sys.executable,
        "SPARK_WORKER_DIR": str(work_dir / "worker"),
    }
    master = _launch(
        [
            "org.apache.spark.deploy.master.Master",
            "--host",
            _LOOPBACK,
            "--port",
            str(port),
            "--webui-port",
            str(web_port),
        ],
        env=env,
        log=work_dir / "master.log",
    )
    processes: tuple[subprocess.Popen, ...] = (master,)
    cluster = StandaloneCluster(master_url, web_url, work_dir, processes)
    try:
        _wait(
            lambda: _status(web_url).get("status") == "ALIVE",
            what="the master",
            proc=master,
            timeout_s=timeout_s,
            log=work_dir / "master.log",
        )
        worker = _launch(
            [
                "org.apache.spark.deploy.worker.Worker",
                master_url,
                "--host",
                _LOOPBACK,
                "--webui-port",
                str(worker_web_port),
                "--cores",
                str(cores),
                "--memory",
                memory,
                "--work-dir",
                str(work_dir / "worker"),
            ],
            env=env,
            log=work_dir / "worker.log",
        )
        cluster = StandaloneCluster(master_url, web_url, work_dir, (master, worker))
        _wait(
            lambda: _status(web_url).get("aliveworkers", 0) >= 1,
            what="the worker",
            proc=worker,
            timeout_s=timeout_s,
            log=work_dir / "worker.log",
        )
    except BaseException:
        cluster.stop()
        raise
    return cluster


@contextmanager
def standalone_cluster(
    *, work_dir: Path, cores: int = 2, memory: str = "2g"
) -> Iterator[StandaloneCluster]:
    """A cluster for a ``with`` block; pass ``c.master_url`` as ``ingest(..., spark_master=)``."""
    cluster = start(work_dir=work_dir, cores=cores, memory=memory)
    try:
        yield cluster
    finally:
        cluster.stop()


def _launch(args: list[str], *, env: dict[str, str], log: Path) -> subprocess.Popen:
    spark_class = spark_home() / "bin" / "spark-class"
    with open(log, "ab") as out:
        # A new session: the launcher script and its JVM form one process group to stop together.
        return subprocess.Popen(
            ["bash", str(spark_class), *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def _status(web_url: str) -> dict:
    try:
        with urllib.request.urlopen(f"{web_url}/json/", timeout=2) as response:
            return json.loads(response.read().decode())
    except (urllib.error.URLError, OSError, ValueError):
        return {}


def _wait(ready, *, what: str, proc: subprocess.Popen, timeout_s: float, log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if ready():
            return
        if proc.poll() is not None:
            raise RetryableError(
                f"Spark {what} exited with code {proc.returncode} while starting.",
                hint=f"See {log}; is Java 17+ on the PATH?",
            )
        time.sleep(0.5)
    raise RetryableError(
        f"Spark {what} was not ready after {timeout_s:.0f} s.",
        hint=f"See {log}; the machine may be busy, try again.",
    )


def _stop(proc: subprocess.Popen, *, timeout_s: float) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=timeout_s)
    except ProcessLookupError:
        pass


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_LOOPBACK, 0))
        return sock.getsockname()[1]
