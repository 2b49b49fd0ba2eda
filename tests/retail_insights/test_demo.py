"""The demo's last words: how to serve the web app over what it built, and where to open it."""

from __future__ import annotations

from pathlib import Path
import re

from fastapi.testclient import TestClient

from assistant.http.app import create_app
from retail_insights.demo import web_app_hint
from retail_insights.settings import Settings


def test_the_demo_ends_with_the_serve_command_and_addresses_the_app_answers(tmp_path: Path) -> None:
    hint = web_app_hint(tmp_path, port=8123)
    assert f"`RETAIL_HOME={tmp_path} .venv/bin/retail-insights serve --host 127.0.0.1 --port 8123`" in hint
    urls = re.findall(r"http://127\.0\.0\.1:8123(/\S*)", hint)
    assert urls == ["/", "/data", "/sql"]
    with TestClient(create_app(Settings(home=tmp_path), assistant=object())) as client:   # pages need no assistant
        for path in urls:
            response = client.get(path)
            assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
