"""A real headless Chromium on the web pages, for the browser tests and the web benchmark.

``Browsing`` is one fresh browser context (no cache, no storage) on one server: it records every
request URL and every console error, so a test can check that nothing left the server's origin and
nothing went wrong in the page. Chromium logs each 4xx/5xx response as a console error ("Failed to
load resource"); a test that expects one says so with ``allow_status``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
import re
from typing import Any

from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

_FAILED_LOAD = re.compile(r"^Failed to load resource: the server responded with a status of (\d{3})")


@contextmanager
def chromium(executable: str) -> Iterator[Browser]:
    """Debian's chromium under Playwright (which cannot download a browser of its own here)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable)
        try:
            yield browser
        finally:
            browser.close()


class Browsing:
    def __init__(self, browser: Browser, base_url: str, *, width: int = 1100, height: int = 900,
                 color_scheme: Any = "light") -> None:
        self.base_url = base_url
        self.context = browser.new_context(base_url=base_url, viewport={"width": width, "height": height},
                                           color_scheme=color_scheme)
        self.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.allowed_statuses: set[int] = set()
        self.asked: list[dict[str, Any]] = []   # the body of every POST /v1/ask
        self.context.on("request", self._request)
        self.page: Page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(f"uncaught {error}"))

    def _request(self, request: Any) -> None:
        self.requests.append(request.url)
        if request.method == "POST" and request.url == f"{self.base_url}/v1/ask":
            self.asked.append(request.post_data_json)

    def _console(self, message: Any) -> None:
        if message.type != "error":
            return
        failed = _FAILED_LOAD.match(message.text)
        if failed and int(failed.group(1)) in self.allowed_statuses:
            return
        self.errors.append(message.text)

    def allow_status(self, status: int) -> None:
        """Responses with ``status`` are expected in this test: their console lines are not errors."""
        self.allowed_statuses.add(status)

    def off_origin(self) -> list[str]:
        """Requests that went anywhere but the server (data: and blob: URLs stay in the page)."""
        return [url for url in self.requests
                if not url.startswith(f"{self.base_url}/") and not url.startswith(("data:", "blob:"))]

    def close(self) -> None:
        self.context.close()


def ask(page: Page, question: str) -> tuple[Locator, dict[str, Any]]:
    """Type ``question``, press Enter, wait for its answer: (the answer region, the API's answer body)."""
    regions = page.get_by_role("region", name="Answer")
    before = regions.count()
    with page.expect_response(lambda r: r.url.endswith("/v1/ask") and r.request.method == "POST") as response:
        page.get_by_label("Question").fill(question)
        page.get_by_label("Question").press("Enter")
    region = regions.nth(before)
    expect(region).not_to_have_attribute("aria-busy", "true")
    return region, response.value.json()

