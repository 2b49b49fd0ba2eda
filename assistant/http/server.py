"""Run the API with uvicorn: ``run(host=, port=, workers=)`` (``retail-insights serve`` calls it).

Each worker process builds the app with ``create_app()`` and its own warm assistant. Logs are
JSON lines (uvicorn's own included); the access log is the app's (with request id, caller and
tier), so uvicorn's is off. With ``workers > 1`` the Prometheus client runs in multiprocess mode
over a fresh folder under ``settings.state_dir``, so ``/metrics`` on any worker shows them all.
"""

from __future__ import annotations

import os
import shutil

from retail_insights.errors import UsageError
from retail_insights.settings import get_settings

LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "assistant.http.logging.JsonFormatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
    "root": {"handlers": ["stderr"], "level": "INFO"},
    "loggers": {"uvicorn": {"handlers": [], "propagate": True},
                "uvicorn.error": {"handlers": [], "propagate": True},
                "uvicorn.access": {"handlers": [], "propagate": False}},
}


def run(*, host: str = "127.0.0.1", port: int = 8000, workers: int = 1,
        factory: str = "assistant.http.app:create_app") -> None:
    """Serve the app ``factory`` (``module:function``) builds until interrupted."""
    import uvicorn

    if workers < 1:
        raise UsageError(f"--workers {workers} is not allowed.", hint="Use 1 or more worker processes.")
    if not 0 < port < 65536:
        raise UsageError(f"--port {port} is not a port number.", hint="Use 1 to 65535, e.g. 8000.")
    if workers > 1:
        metrics_dir = get_settings().state_dir / "prometheus"
        shutil.rmtree(metrics_dir, ignore_errors=True)   # samples of a previous run would be summed in
        metrics_dir.mkdir(parents=True)
        # prometheus_client's own switch, read by every worker process when it imports the client.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    uvicorn.run(factory, factory=True, host=host, port=port, workers=workers,
                log_config=LOG_CONFIG, access_log=False, timeout_graceful_shutdown=10)
