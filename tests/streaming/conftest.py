"""Fixtures for the streaming tests: a unique topic per test and consumer child processes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
import json
import os
from pathlib import Path
import subprocess
import sys
import uuid

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def topic(request: pytest.FixtureRequest) -> str:
    return f"{request.node.name[:40].replace('[', '-').replace(']', '')}-{uuid.uuid4().hex[:8]}"


@dataclass
class ConsumerProcess:
    """``python -m streaming.consumer`` as a child process (to SIGKILL or SIGTERM it)."""

    proc: subprocess.Popen[bytes]
    log: Path

    def wait(self, timeout: float) -> dict:
        out, _ = self.proc.communicate(timeout=timeout)
        assert self.proc.returncode == 0, self.log.read_text()[-3000:]
        return json.loads(out.decode().strip().splitlines()[-1])

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def start_consumer(tmp_path: Path) -> Iterator[Callable[..., ConsumerProcess]]:
    started: list[ConsumerProcess] = []

    def start(*, bootstrap: str, topic: str, group: str, idle_exit: float | None = None,
              batch_events: int = 50_000, batch_seconds: float = 1.0) -> ConsumerProcess:
        log = tmp_path / f"consumer-{len(started)}.log"
        argv = [sys.executable, "-m", "streaming.consumer", "--bootstrap", bootstrap, "--topic", topic,
                "--group", group, "--max-batch-events", str(batch_events),
                "--max-batch-seconds", str(batch_seconds), "--no-views"]
        if idle_exit is not None:
            argv += ["--idle-exit", str(idle_exit)]
        with log.open("wb") as err:
            proc = subprocess.Popen(argv, cwd=PROJECT_ROOT, env=dict(os.environ), stdout=subprocess.PIPE,
                                    stderr=err)
        started.append(ConsumerProcess(proc, log))
        return started[-1]

    yield start
    for consumer in started:
        if consumer.proc.poll() is None:
            consumer.kill()
