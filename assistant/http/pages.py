"""The web pages: plain HTML, CSS and JavaScript from ``static/``, served by the API's own app.

========  ======================  ========================================================
path      body                    what it does (through the ``/v1`` API, same auth)
========  ======================  ========================================================
``/``     ``static/pages/ask``    ask questions: answers with table, chart, SQL, feedback
``/data`` ``static/pages/data``   data health: freshness, batches, quarantine, streams
``/sql``  ``static/pages/sql``    run read-only SQL
========  ======================  ========================================================

Each page is ``static/layout.html`` (head, header and navigation, shared) around its body, with
its scripts: the project's own as ES modules from ``static/js``, and on the Ask page the vendored
Vega builds (``static/vendor/<package>@<version>``, see its README). Vendored files never change
under a given path, so browsers may keep them for a year; pages and the project's own files are
revalidated on every load. Every page carries a Content-Security-Policy that allows only this
origin: the page cannot load anything from, or send anything to, another host.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
import html
import os
from pathlib import Path
from string import Template
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).with_name("static")
VEGA = ("vendor/vega@5.33.1/vega.min.js", "vendor/vega-lite@5.23.0/vega-lite.min.js",
        "vendor/vega-embed@6.29.0/vega-embed.min.js")
POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
          "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
REVALIDATE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Page:
    path: str
    title: str
    body: str                          # file in static/pages
    scripts: tuple[str, ...]           # under static/: classic scripts (vendor/) load first, then modules (js/)


PAGES = (
    Page("/", "Ask", "ask.html", (*VEGA, "js/ask.js")),
    Page("/data", "Data health", "data.html", ("js/health.js",)),
    Page("/sql", "SQL", "sql.html", ("js/sql.js",)),
)


@cache
def render(page: Page) -> str:
    """The page's HTML: the layout with its title, scripts, navigation (itself marked current) and body."""
    def script(src: str) -> str:
        kind = 'type="module"' if src.startswith("js/") else "defer"
        return f'  <script {kind} src="/static/{src}"></script>'

    current = ' aria-current="page"'
    nav = "\n".join(f'      <a href="{p.path}"{current if p is page else ""}>{html.escape(p.title)}</a>' for p in PAGES)
    layout = Template((STATIC_DIR / "layout.html").read_text(encoding="utf-8"))
    return layout.substitute(title=html.escape(page.title), scripts="\n".join(map(script, page.scripts)), nav=nav,
                             main=(STATIC_DIR / "pages" / page.body).read_text(encoding="utf-8"))


def _handler(page: Page) -> Any:
    def serve() -> HTMLResponse:
        return HTMLResponse(render(page), headers={"Content-Security-Policy": POLICY, "Cache-Control": REVALIDATE,
                                                   "X-Content-Type-Options": "nosniff"})

    serve.__name__ = f"page_{Path(page.body).stem}"
    return serve


router = APIRouter(include_in_schema=False)
for _page in PAGES:
    router.add_api_route(_page.path, _handler(_page), methods=["GET", "HEAD"])


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
    """Serve ``PAGES`` and their assets under ``/static``."""
    app.include_router(router)
    app.mount("/static", Assets(directory=STATIC_DIR), name="static")
