"""Airflow on this machine: ``airflow standalone`` on 127.0.0.1 with the project's DAGs.

``make airflow`` runs ``python -m retail_insights.airflow_local``: Airflow's home is
``<RETAIL_HOME>/airflow`` (SQLite, LocalExecutor with 2 task slots), the API server and UI listen
on 127.0.0.1 only, and once everything is up the login is printed. Standalone's simple auth
manager generates the ``admin`` password on first start and keeps it in
``<AIRFLOW_HOME>/simple_auth_manager_passwords.json.generated``.

Standalone starts the scheduler and the triggerer with log servers that listen on every
interface, which no setting changes; a small ``airflow`` shim first on the children's PATH adds
``--skip-serve-logs`` (the UI reads task logs from the local files anyway).

Tests and scripts use :class:`Standalone` (start, wait, stop the whole process group) and
:class:`AirflowAPI` (token, list DAGs, unpause, trigger, wait for a run). Task bodies that start
worker processes wrap the work in :func:`spawn_safe_main`.
"""

from __future__ import annotations

import argparse
import atexit
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
import json
import os
from pathlib import Path
import signal
import subprocess
import sys
import time
from typing import Any

from retail_insights.errors import ConfigError, RetailError, UsageError
from retail_insights.settings import get_settings

LOOPBACK = "127.0.0.1"
PROJECT_ROOT = Path(__file__).resolve().parents[1]
DAGS_FOLDER = PROJECT_ROOT / "dags"
PASSWORD_FILE = "simple_auth_manager_passwords.json.generated"
FINISHED = ("success", "failed")

_SHIM = """#!/bin/sh
# Written by retail_insights.airflow_local: keeps standalone's log servers closed (see there).
case "$1" in
  scheduler|triggerer) exec {airflow} "$@" --skip-serve-logs ;;
  *) exec {airflow} "$@" ;;
esac
"""


class AirflowLocalError(RetailError, RuntimeError):
    """Local Airflow did not start, did not answer in time, or a run did not finish."""


def airflow_home() -> Path:
    """``<RETAIL_HOME>/airflow``: the SQLite DB, logs, config and the generated password file."""
    return get_settings().home.resolve() / "airflow"


def password_file(home: Path) -> Path:
    return home / PASSWORD_FILE


def admin_password(home: Path, *, user: str = "admin") -> str | None:
    """The password standalone generated for ``user``; None until it has written the file."""
    path = password_file(home)
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8")).get(user)


def standalone_env(*, home: Path, port: int, dags_folder: Path = DAGS_FOLDER,
                   base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of ``airflow standalone``: ``base`` (default: ours) plus its settings."""
    if not 0 < port < 65536:
        raise UsageError(f"port {port} is not a port number.", hint="Use 1 to 65535, e.g. 8080.")
    env = dict(os.environ if base is None else base)
    venv_bin = str(Path(sys.executable).parent)
    env.update({
        "PATH": os.pathsep.join([str(home / "bin"), venv_bin, env.get("PATH", "")]),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "2",  # 2 cores: two tasks at a time
        "AIRFLOW__API__HOST": LOOPBACK,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__WORKERS": "1",
        # Workers reach the execution API through the base URL; it must name our port.
        "AIRFLOW__API__BASE_URL": f"http://{LOOPBACK}:{port}",
        # Tasks may run in another working directory: give them an absolute RETAIL_HOME.
        "RETAIL_HOME": str(get_settings().home.resolve()),
    })
    return env


class Standalone:
    """One ``airflow standalone`` process group: start it, wait until it serves, stop all of it."""

    def __init__(self, *, home: Path, port: int, dags_folder: Path = DAGS_FOLDER,
                 env: Mapping[str, str] | None = None, log: Path | None = None) -> None:
        self.home, self.port = home, port
        self.url = f"http://{LOOPBACK}:{port}"
        self.env = standalone_env(home=home, port=port, dags_folder=dags_folder, base=env)
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        _write_shim(self.home / "bin", Path(sys.executable).parent / "airflow")
        output: Any = None
        if self.log is not None:
            self.log.parent.mkdir(parents=True, exist_ok=True)
            output = self.log.open("ab")
        try:
            self.proc = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                [str(Path(sys.executable).parent / "airflow"), "standalone"],
                env=self.env, stdin=subprocess.DEVNULL, stdout=output,
                stderr=subprocess.STDOUT if output else None,
                start_new_session=True,  # its own process group, so stop() reaches every component
            )
        finally:
            if output is not None:
                output.close()
        atexit.register(self.stop)  # a caller that forgets (or crashes) leaves nothing running

    def wait_ready(self, *, timeout_s: float = 600.0) -> str:
        """Block until the API answers and the admin password exists; returns the password."""
        import httpx

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                code = None if self.proc is None else self.proc.returncode
                where = f" in {self.log}" if self.log else ""
                raise AirflowLocalError(f"airflow standalone exited with code {code}.",
                                        hint=f"Fix: read its output{where}.")
            password = admin_password(self.home)
            try:
                health = httpx.get(f"{self.url}/api/v2/monitor/health", timeout=5)
                healthy = health.status_code == 200
            except httpx.HTTPError:
                healthy = False
            if healthy and password:
                return password
            time.sleep(1)
        raise AirflowLocalError(
            f"airflow standalone did not serve {self.url} within {timeout_s:g}s.",
            hint="Fix: check its output; on a busy machine pass a longer timeout.")

    def stop(self, *, timeout_s: float = 60.0) -> None:
        """Ctrl-C to the whole group; once standalone has stopped its components, kill the rest.

        Standalone exits after its scheduler, DAG processor, triggerer and API server have. Idle
        LocalExecutor workers orphaned by the scheduler ignore Ctrl-C and SIGTERM; they run
        nothing, so SIGKILL ends them.
        """
        if self.proc is None:
            return
        group = self.proc.pid  # start_new_session: the group id is the leader's pid
        try:
            os.killpg(group, signal.SIGINT)
            self.proc.wait(timeout_s)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if self._group_gone(group, 2.0):
                break
            try:
                os.killpg(group, sig)
            except ProcessLookupError:
                break
        self._group_gone(group, 10.0)
        self.proc.wait()
        self.proc = None
        atexit.unregister(self.stop)

    def _group_gone(self, group: int, wait_s: float) -> bool:
        deadline = time.monotonic() + wait_s
        while True:
            assert self.proc is not None
            self.proc.poll()  # reap the leader, or its zombie keeps the group alive
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.2)


@dataclass
class AirflowAPI:
    """The few REST calls the project needs, with a JWT from the simple auth manager."""

    url: str
    token: str

    @classmethod
    def login(cls, url: str, *, user: str, password: str) -> AirflowAPI:
        import httpx

        body = {"username": user, "password": password}
        response = httpx.post(f"{url}/auth/token", json=body, timeout=30)
        if response.status_code not in (200, 201):
            raise ConfigError(
                f"Airflow at {url} refused the login of {user!r} ({response.status_code}).",
                hint="Fix: use the password from the generated password file.")
        return cls(url, response.json()["access_token"])

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        import httpx

        response = httpx.request(method, f"{self.url}/api/v2{path}", json=body, timeout=30,
                                 headers={"Authorization": f"Bearer {self.token}"})
        if response.status_code >= 400:
            raise AirflowLocalError(
                f"{method} {path} failed with {response.status_code}: {response.text}")
        return response.json()

    def dag_ids(self) -> list[str]:
        return sorted(d["dag_id"] for d in self._call("GET", "/dags?limit=100")["dags"])

    def unpause(self, dag_id: str) -> None:
        self._call("PATCH", f"/dags/{dag_id}", {"is_paused": False})

    def trigger(self, dag_id: str, *, logical_date: str | None = None,
                conf: dict[str, Any] | None = None) -> str:
        """Start a run now (``logical_date`` None: a run without one); returns its run id."""
        body = {"logical_date": logical_date, "conf": conf or {}}
        return self._call("POST", f"/dags/{dag_id}/dagRuns", body)["dag_run_id"]

    def run_state(self, dag_id: str, run_id: str) -> str:
        return self._call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"]

    def wait_for_run(self, dag_id: str, run_id: str, *, timeout_s: float = 900.0) -> str:
        """Poll until the run finishes; returns ``success`` or ``failed``."""
        import httpx

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                state = self.run_state(dag_id, run_id)
            except httpx.TimeoutException:  # SQLite is locked while a task commits; ask again
                state = None
            if state in FINISHED:
                return state
            time.sleep(2)
        raise AirflowLocalError(
            f"run {run_id} of {dag_id} did not finish within {timeout_s:g}s.",
            hint="Fix: look at the run in the UI; raise the timeout on a busy machine.")

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        found = self._call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")
        return {t["task_id"]: t["state"] for t in found["task_instances"]}


@contextmanager
def spawn_safe_main() -> Iterator[None]:
    """Let a task start "spawn" worker processes (Dask's default) under an Airflow worker.

    A spawned child first re-imports the parent's ``__main__``: under an executor that is the
    ``airflow`` script, whose import of airflow fails in the child because Airflow 3 replaces the
    task process's database URL with an invalid one. While workers start, ``__main__`` is this
    light module instead. (Not an empty module: pyspark, imported by Great Expectations, takes a
    main module without a name or file for a doctest run and exits the worker.)
    """
    main = sys.modules["__main__"]
    sys.modules["__main__"] = sys.modules[__name__]
    try:
        yield
    finally:
        sys.modules["__main__"] = main


def main(argv: Sequence[str] | None = None) -> int:
    """``make airflow``: run standalone in the foreground and print the login once it is up."""
    parser = argparse.ArgumentParser(
        prog="python -m retail_insights.airflow_local",
        description="Run Airflow standalone on 127.0.0.1 with the project's DAGs.")
    parser.add_argument("--port", type=int, default=8080, help="API and UI port (default 8080)")
    args = parser.parse_args(argv)
    home = airflow_home()
    standalone = Standalone(home=home, port=args.port)  # output goes to this terminal
    standalone.start()
    try:
        password = standalone.wait_ready()
        print(f"\nAirflow is up: {standalone.url}  (AIRFLOW_HOME {home})\n"
              f"  user:     admin\n  password: {password}\n"
              f"  (generated by the simple auth manager, kept in {password_file(home)})\n"
              f"DAGs start paused: unpause them in the UI. Ctrl-C stops Airflow.\n", flush=True)
        assert standalone.proc is not None
        return standalone.proc.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        standalone.stop()


def _write_shim(folder: Path, airflow: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    shim = folder / "airflow"
    shim.write_text(_SHIM.format(airflow=airflow), encoding="utf-8")
    shim.chmod(0o755)


if __name__ == "__main__":
    sys.exit(main())
