"""The local model's server: llama.cpp (``xllamacpp``) behind an OpenAI-compatible API on loopback.

``LocalServer.api_base()`` returns ``http://127.0.0.1:<port>/v1`` of a running server, starting one on
first use: a child process (``python -m assistant.llm.local_server``) that loads the verified weights
and listens on 127.0.0.1 only. Processes of one ``RETAIL_HOME`` share one server: its pid, port and
configuration are kept in ``state/llm/local_server.json`` and a start is done under a file lock, so a
second API worker reuses the first one's server instead of loading the weights again. The child
watches the process that started it and exits when that process is gone; ``stop()`` ends it sooner,
and only when this process started it.

litellm reaches it as ``openai/<alias>`` with that ``api_base`` (``assistant.llm.generator``).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import asdict, dataclass
import fcntl
import json
import logging
import os
from pathlib import Path
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import TYPE_CHECKING
import urllib.error
import urllib.request

from assistant.errors import AssistantError
from assistant.llm import weights as weights_mod
from retail_insights.services import stop_process

if TYPE_CHECKING:
    from retail_insights.settings import Settings

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
STATE_FILE = "local_server.json"
POLL_S = 0.25


class LocalServerError(AssistantError, RuntimeError):
    """The local model server could not be started or did not become healthy."""


@dataclass(frozen=True)
class ServerConfig:
    weights: str              # catalog name
    model_path: str
    alias: str                # the model name litellm sends
    threads: int
    batch_threads: int
    context: int
    port: int = 0             # 0 = pick a free one


class LocalServer:
    """Starts (once) and finds the shared local server; one public method, ``api_base``."""

    def __init__(self, config: ServerConfig, *, state_dir: Path, start_timeout_s: float = 180.0) -> None:
        self.config = config
        self.state_dir = Path(state_dir) / "llm"
        self.start_timeout_s = start_timeout_s
        self._child: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalServer:
        local = settings.llm.local
        w = weights_mod.weights(local.weights)
        config = ServerConfig(weights=w.name, model_path=str(w.path(local.models_dir)), alias=w.name,
                              threads=local.threads, batch_threads=local.batch_threads, context=local.context,
                              port=local.port)
        return cls(config, state_dir=settings.state_dir, start_timeout_s=local.start_timeout_s)

    @property
    def model(self) -> str:
        """The litellm model name of this server's model."""
        return f"openai/{self.config.alias}"

    def api_base(self) -> str:
        """The base URL of a healthy server with this configuration, started here if none is running."""
        with self._lock:
            found = self._running()
            if found is not None:
                return _base(found)
            self.state_dir.mkdir(parents=True, exist_ok=True)
            with open(self.state_dir / "local_server.lock", "a+b") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)        # one start per RETAIL_HOME at a time
                found = self._running()
                if found is None:
                    found = self._start()
            return _base(found)

    def stop(self) -> None:
        """End the server if this process started it (and forget it)."""
        child, self._child = self._child, None
        if child is None or child.poll() is not None:
            return
        stop_process(child, timeout_s=10)
        (self.state_dir / STATE_FILE).unlink(missing_ok=True)

    # --- internals -----------------------------------------------------------------------------------------
    def _running(self) -> int | None:
        """The port of a live server with this configuration, from the state file."""
        try:
            state = json.loads((self.state_dir / STATE_FILE).read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        wanted = {k: v for k, v in asdict(self.config).items() if k != "port"}
        same = {k: state.get("config", {}).get(k) for k in wanted} == wanted
        if not same or not _alive(int(state.get("pid", 0))) or not _healthy(int(state["port"])):
            return None
        return int(state["port"])

    def _start(self) -> int:
        model = weights_mod.require(weights_mod.weights(self.config.weights), Path(self.config.model_path).parent)
        port = self.config.port or _free_port()
        log_path = self.state_dir / "local_server.log"
        command = [sys.executable, "-m", "assistant.llm.local_server", "--model", str(model),
                   "--alias", self.config.alias, "--port", str(port), "--threads", str(self.config.threads),
                   "--batch-threads", str(self.config.batch_threads), "--context", str(self.config.context),
                   "--parent-pid", str(os.getpid())]
        log.info("starting the local model server on %s:%d (%s)", HOST, port, self.config.weights)
        with open(log_path, "ab") as out:
            child = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     cwd=str(Path(__file__).resolve().parents[2]))
        deadline = time.monotonic() + self.start_timeout_s
        while not _healthy(port):
            if child.poll() is not None:
                raise LocalServerError(f"the local model server exited with code {child.returncode} while "
                                       f"loading {model.name}.", hint=f"Fix: see {log_path}.")
            if time.monotonic() > deadline:
                child.kill()
                raise LocalServerError(f"the local model server was not ready within {self.start_timeout_s:.0f} s.",
                                       hint="Fix: raise RETAIL_LLM__LOCAL__START_TIMEOUT_S, or see "
                                            f"{log_path}.")
            time.sleep(POLL_S)
        self._child = child
        state = {"pid": child.pid, "port": port, "config": asdict(self.config)}
        (self.state_dir / STATE_FILE).write_text(json.dumps(state, sort_keys=True), encoding="utf-8")
        return port


def _base(port: int) -> str:
    return f"http://{HOST}:{port}/v1"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/health", timeout=1.0) as response:
            return response.status == 200 and json.loads(response.read()).get("status") == "ok"
    except (urllib.error.URLError, OSError, ValueError):
        return False


# --- the child process -------------------------------------------------------------------------------------
def serve(argv: Sequence[str] | None = None) -> int:
    """Load the weights into llama.cpp's server on 127.0.0.1 and keep it up while the parent lives."""
    parser = argparse.ArgumentParser(prog="python -m assistant.llm.local_server")
    parser.add_argument("--model", required=True, type=Path)
    parser.add_argument("--alias", required=True)
    parser.add_argument("--port", required=True, type=int)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-threads", type=int, default=2)
    parser.add_argument("--context", type=int, default=4096)
    parser.add_argument("--parent-pid", type=int, default=0, help="exit when this process is gone (0: never)")
    args = parser.parse_args(argv)
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(args.model)
    params.model_alias = {args.alias}
    params.hostnames = [HOST]
    params.port = args.port
    params.n_ctx = args.context
    params.n_parallel = 1                      # one question at a time: two would halve each one's speed
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.batch_threads
    params.cache_prompt = True                 # the system prompt's tokens are read once, then reused
    params.warmup = False
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server = xllamacpp.Server(params)
    print(f"local model server: {args.model.name} on {server.listening_address}", flush=True)
    while not stop.wait(1.0):
        if args.parent_pid and not _alive(args.parent_pid):
            break
    del server
    return 0


if __name__ == "__main__":
    raise SystemExit(serve())
