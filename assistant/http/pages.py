"""The web pages: plain HTML, CSS and JavaScript from ``static/``, served by the API's own app.

========  =========================  =====================================================
path      file                       what it does (through the ``/v1`` API, same auth)
========  =========================  =====================================================
``/``     ``static/index.html``      ask questions: answers with table, chart, SQL, feedback
``/data`` ``static/data.html``       data health: freshness, batches, quarantine, streams
``/sql``  ``static/sql.html``        run read-only SQL
========  =========================  =====================================================

Assets are under ``/static``; the vendored Vega builds (``static/vendor/<package>@<version>``)
never change under a given path, so browsers may keep them for a year, while pages and the
project's own scripts are revalidated on every load. Every page carries a Content-Security-Policy
that allows only this origin: the page cannot load or send anything elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).with_name("static")
PAGES = {"/": "index.html", "/data": "data.html", "/sql": "sql.html"}
POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
          "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
REVALIDATE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"

router = APIRouter(include_in_schema=False)


def _page(file: str) -> Any:
    def page() -> FileResponse:
        return FileResponse(STATIC_DIR / file, media_type="text/html",
                            headers={"Content-Security-Policy": POLICY, "Cache-Control": REVALIDATE,
                                     "X-Content-Type-Options": "nosniff"})

    page.__name__ = f"page_{Path(file).stem}"
    return page


for _path, _file in PAGES.items():
    router.add_api_route(_path, _page(_file), methods=["GET", "HEAD"])


class Assets(StaticFiles):
    """Static files with caching headers: vendored builds for a year, the rest revalidated."""

    def file_response(self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope,
                      status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        vendored = Path(full_path).resolve().is_relative_to(STATIC_DIR / "vendor")
        response.headers["Cache-Control"] = IMMUTABLE if vendored else REVALIDATE
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def install(app: FastAPI) -> None:
    """Serve the pages at ``PAGES`` and their assets under ``/static``."""
    app.include_router(router)
    app.mount("/static", Assets(directory=STATIC_DIR), name="static")
