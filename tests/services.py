"""Test-only service helpers: install what a fixture needs through mk/services.mk.

A fresh CI machine has no redis-server, chromium or emulator venv; installing from the fixture keeps
plain `pytest` working, and going through the make targets keeps one list of pinned versions.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from retail_insights.errors import ConfigError
from retail_insights.services import PROJECT_ROOT, redis_server_binary

SERVICES_MAKEFILE = PROJECT_ROOT / "mk" / "services.mk"


def run_make_target(target: str, *, log_path: Path) -> None:
    """Run one target of mk/services.mk from the project root, output appended to ``log_path``."""
    if shutil.which("make") is None:
        raise ConfigError(f"GNU make is needed to install test services (target {target!r}).",
                          hint="Install it with `apt-get install -y make`.")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        result = subprocess.run(  # noqa: S603 - fixed argv, no shell
            ["make", "--no-print-directory", "-f", str(SERVICES_MAKEFILE), target],
            cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            check=False,
        )
    if result.returncode != 0:
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-15:])
        raise ConfigError(
            f"`make -f mk/services.mk {target}` failed with exit code {result.returncode} "
            f"(log {log_path}):\n{tail}\n",
            hint="Run `make services` as root (it installs redis-server and the emulator venv).",
        )


def ensure_redis_server(*, log_dir: Path) -> str:
    """Path of redis-server, installing Debian's package first when it is missing."""
    if shutil.which("redis-server") is None:
        run_make_target("redis-server", log_path=log_dir / "install.log")
    return redis_server_binary()


def ensure_binary(name: str, *, target: str, package: str, log_dir: Path) -> str:
    """Path of the program ``name``, running the services target that apt-installs ``package`` when it is
    missing (chromium for Playwright, promtool from prometheus)."""
    if shutil.which(name) is None:
        run_make_target(target, log_path=log_dir / "install.log")
    found = shutil.which(name)
    if found is None:
        raise ConfigError(f"{name} is still missing after `make -f mk/services.mk {target}`.",
                          hint=f"Install it with `apt-get install -y {package}` (as root).")
    return found


def ensure_chromium(*, log_dir: Path) -> str:
    """Path of Debian's chromium (for Playwright), installing the package first when it is missing."""
    return ensure_binary("chromium", target="chromium", package="chromium", log_dir=log_dir)


def ensure_bq_emulator(*, log_dir: Path) -> None:
    """Create .venv-bq when missing; always (cheaply) install DuckDB's extensions into ~/.duckdb."""
    run_make_target("bq-emulator-venv", log_path=log_dir / "install.log")


def ensure_promtool(*, log_dir: Path) -> str:
    """Path of promtool, installing Debian's prometheus package first when it is missing."""
    return ensure_binary("promtool", target="promtool", package="prometheus", log_dir=log_dir)
