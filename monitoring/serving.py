"""The service ``retail-insights serve`` runs: the assistant's API, whose ``/metrics`` also exports data health,
the LLM budget and Redis (``monitoring.exporter``), so one scrape target serves every dashboard.

``create_app`` takes what ``assistant.http.app.create_app`` takes; uvicorn calls it once per worker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from assistant.http.app import create_app as assistant_app
from monitoring.exporter import DataHealthCollector, ServiceCollector
from retail_insights.settings import Settings, get_settings
from warehouse.spec import dataset_names

if TYPE_CHECKING:
    from fastapi import FastAPI

FACTORY = "monitoring.serving:create_app"   # for uvicorn's factory=True


def create_app(settings: Settings | None = None, assistant: Any = None, **options: Any) -> FastAPI:
    settings = settings or get_settings()
    app = assistant_app(settings, assistant, **options)
    services = app.state.services
    services.metrics.add_collector(ServiceCollector(settings, redis_status=services.redis_status))
    services.metrics.add_collector(DataHealthCollector(settings, datasets=dataset_names()))
    return app
