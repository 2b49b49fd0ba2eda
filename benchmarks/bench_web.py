"""The web page on loopback, in a real headless Chromium: page weight and time to first answer. Prints, never asserts.

Run ``.venv/bin/python benchmarks/bench_web.py [--home DIR] [--runs N] [--screenshots docs]``. Without
``--home`` it builds the test warehouse in a temp home (``tests/assistant/warehouse_builder.py``) and
ingests one small generated retail_sales batch with planted problems (a real ``retail-insights
ingest``, so the Data health page has a batch, quarantine codes and Data Docs), then starts
``retail-insights serve`` and waits for ``/ready`` (a warm server).

- first load: every response of ``GET /`` in a fresh browser context (cold cache) until the network is
  idle: bytes of bodies and headers, per file;
- time to first answer: a fresh context per run (cold cache) loads ``/``, then the page's own clock
  runs from submitting the question to the answer drawn (sentence, table and chart in the page); new
  questions (the rules tier, answered by the warehouse) and the same questions asked again (the
  answer cache); also from navigation start to that answer;
- ``--screenshots DIR`` also saves the pages' main states as PNG files there.
"""

from __future__ import annotations

import argparse
from contextlib import contextmanager
import os
from pathlib import Path
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # run as a script from anywhere

from benchmarks.http_load import (  # noqa: E402
    ROOT, build_warehouse, has_warehouse, percentiles, start_server, stop_server, wait_ready,
)
from retail_insights.services import free_port  # noqa: E402
from tests.assistant.http.browsing import Browsing, ask, chromium  # noqa: E402

MAX_FIRST_LOAD_BYTES = 1.5 * 1024 * 1024
DIMENSIONS = ("region", "category", "segment", "ship mode", "sub-category")
METRICS = ("sales", "profit", "quantity", "number of orders")


def questions(n: int) -> list[str]:
    """``n`` distinct superstore questions a fresh server has not answered yet."""
    asks = [f"{m} by {d} in {y}" for y in (2014, 2015, 2016, 2017) for m in METRICS for d in DIMENSIONS]
    return asks[:n]


def ingest_batch(home: Path) -> None:
    """A real batch for the Data health page: 3,000 generated orders, some with planted problems."""
    env = {**os.environ, "RETAIL_HOME": str(home)}
    raw = home / "web-batch"
    for argv in (["generate", "--rows", "3000", "--seed", "11", "--out", str(raw)],
                 ["ingest", "--dataset", "retail_sales", str(raw), "--json", "--workers", "1"]):
        subprocess.run([sys.executable, "-m", "retail_insights.cli", *argv], check=True, cwd=ROOT, env=env,
                       stdout=subprocess.DEVNULL, timeout=1800)


@contextmanager
def served(home: Path) -> Iterator[str]:
    port = free_port()
    # No priming from the query log, no Redis: on a fresh process only the timed repeats hit a cache.
    process = start_server(home, port, redis_url=None, workers=1, log=home / "bench-web-server.log",
                           env={"RETAIL_API__PRIME_QUESTIONS": "0"})
    url = f"http://127.0.0.1:{port}"
    try:
        print(f"server ready after {wait_ready(url, process):.1f}s (warm-up done)")
        yield url
    finally:
        stop_server(process)


def loaded(web: Browsing) -> None:
    """Open the Ask page and wait until it can ask (datasets listed) and has read the data's freshness."""
    with web.page.expect_response(lambda r: "/v1/health/data" in r.url):
        web.page.goto("/")
    web.page.get_by_label("Dataset").select_option("superstore")


def first_load(browser: Any, url: str) -> dict[str, Any]:
    web = Browsing(browser, url)
    responses: list[Any] = []
    web.page.on("requestfinished", lambda request: responses.append(request))
    loaded(web)
    web.page.wait_for_load_state("networkidle")
    files = []
    for request in responses:
        sizes = request.sizes()
        files.append((request.url.removeprefix(url), sizes["responseBodySize"], sizes["responseHeadersSize"]))
    web.close()
    body = sum(f[1] for f in files)
    headers = sum(f[2] for f in files)
    return {"files": files, "body": body, "headers": headers, "errors": web.errors, "off_origin": web.off_origin()}


# Timed in the page, not through Playwright's polling: from the form's submit to the answer region
# holding its sentence and, when the answer has a chart, the drawn chart.
TIME_ONE_ANSWER = """(question) => new Promise((resolve) => {
  const submitted = performance.now();
  const before = document.querySelectorAll("[aria-label=Answer]").length;
  let shown = null;
  const observer = new MutationObserver(() => {
    const region = document.querySelectorAll("[aria-label=Answer]")[before];
    if (!region || region.hasAttribute("aria-busy")) return;
    shown ??= performance.now() - submitted;
    const figure = region.querySelector("figure");
    if (figure && !figure.dataset.drawn) return;
    observer.disconnect();
    const request = performance.getEntriesByType("resource").filter((e) => e.name.endsWith("/v1/ask")).pop();
    resolve({ms: performance.now() - submitted, shownMs: shown, sinceNavigation: performance.now(), requestMs: request.duration,
             meta: region.querySelector(".meta").textContent});
  });
  observer.observe(document.body, {subtree: true, childList: true, attributes: true});
  document.getElementById("question").value = question;
  document.getElementById("ask-form").requestSubmit();
})"""


def answer_times(browser: Any, url: str, asks: list[str]) -> dict[str, list[Any]]:
    """Per question, each in a fresh context: submit -> answer drawn, the /v1/ask request within it,
    and navigation start -> answer drawn (ms); the answer's tier."""
    times: dict[str, list[Any]] = {"submit": [], "shown": [], "request": [], "navigation": [], "tiers": []}
    for question in asks:
        web = Browsing(browser, url)
        loaded(web)
        timed = web.page.evaluate(TIME_ONE_ANSWER, question)
        times["submit"].append(timed["ms"])
        times["shown"].append(timed["shownMs"])
        times["request"].append(timed["requestMs"])
        times["navigation"].append(timed["sinceNavigation"])
        times["tiers"].append(timed["meta"].split(" · ")[0].removeprefix("tier "))
        web.close()
    return times


def screenshots(browser: Any, url: str, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    web = Browsing(browser, url, width=1100, height=860)
    loaded(web)
    ask(web.page, "sales by region in 2016")
    follow, _ = ask(web.page, "and in 2017?")
    follow.locator("figure[data-drawn]").wait_for()
    follow.get_by_role("group", name="SQL").locator("summary").click()
    follow.evaluate("region => region.parentElement.scrollIntoView({block: 'start'})")
    web.page.screenshot(path=folder / "web-ask.png")
    web.page.get_by_role("button", name="New conversation").click()
    clarify, _ = ask(web.page, "show me the numbers")
    clarify.evaluate("region => region.parentElement.scrollIntoView({block: 'start'})")
    web.page.screenshot(path=folder / "web-clarify.png")
    web.page.goto("/data")
    web.page.get_by_role("region", name="retail_sales").locator(".accounting").wait_for()
    web.page.screenshot(path=folder / "web-data-health.png", full_page=True)
    web.page.goto("/sql")
    web.page.get_by_label("Dataset").select_option("superstore")
    web.page.get_by_label("Query").fill("DELETE FROM superstore WHERE region = 'West'")
    web.page.get_by_role("button", name="Run").click()
    web.page.get_by_role("alert").wait_for()
    web.page.screenshot(path=folder / "web-sql.png")
    web.close()
    phone = Browsing(browser, url, width=380, height=800, color_scheme="dark")
    loaded(phone)
    region, _ = ask(phone.page, "monthly sales trend in 2017 by segment")
    region.locator("figure[data-drawn]").wait_for()
    phone.page.evaluate("window.scrollTo(0, 0)")
    phone.page.screenshot(path=folder / "web-phone-dark.png")
    phone.close()
    print(f"screenshots in {folder}: " + ", ".join(sorted(p.name for p in folder.glob("web-*.png"))))


def report(weight: dict[str, Any], new: dict[str, list[Any]], repeated: dict[str, list[Any]]) -> None:
    print("\n== first load of GET / (cold cache)")
    for path, body, headers in weight["files"]:
        print(f"  {body:>9,} B body  {headers:>5,} B headers  {path}")
    total = weight["body"] + weight["headers"]
    verdict = "within" if total <= MAX_FIRST_LOAD_BYTES else "OVER"
    print(f"  total {total:,} B ({total / 1024 / 1024:.2f} MiB; bodies {weight['body']:,} B) - {verdict} the 1.5 MiB budget")
    print(f"  console errors: {len(weight['errors'])}; requests off the server: {len(weight['off_origin'])}")
    for label, times in (("new questions", new), ("the same questions again", repeated)):
        print(f"\n== time to first answer, {label} ({len(times['submit'])} runs; tiers {sorted(set(times['tiers']))})")
        print("  submit -> answer drawn (ms):        " + _percentiles(times["submit"]))
        print("    sentence and table shown (ms):    " + _percentiles(times["shown"]))
        print("    the POST /v1/ask request (ms):    " + _percentiles(times["request"]))
        print("  navigation -> answer drawn (ms):    " + _percentiles(times["navigation"]))


def _percentiles(values: list[float]) -> str:
    p = percentiles(values)
    return f"p50 {p['p50_ms']:.0f}  p95 {p['p95_ms']:.0f}  max {p['max_ms']:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="a RETAIL_HOME with a warehouse (default: build one in a temp dir)")
    parser.add_argument("--runs", type=int, default=20, help="questions timed (each in a fresh browser context)")
    parser.add_argument("--screenshots", type=Path, help="save the main states as PNG files in this folder")
    parser.add_argument("--chromium", default="chromium", help="the browser to drive (Debian's chromium)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-web-") as temp:
        home = args.home or Path(temp)
        if not has_warehouse(home):
            print(f"building the test warehouse in {home} and ingesting one small batch...")
            build_warehouse(home)
            ingest_batch(home)
        asks = questions(args.runs)
        executable = shutil.which(args.chromium)
        if executable is None:
            raise SystemExit(f"no browser {args.chromium!r} on PATH: run `make -f mk/services.mk chromium` (as root).")
        with served(home) as url, chromium(executable) as browser:
            weight = first_load(browser, url)
            new = answer_times(browser, url, asks)
            repeated = answer_times(browser, url, asks)
            report(weight, new, repeated)
            if args.screenshots:
                screenshots(browser, url, args.screenshots)


if __name__ == "__main__":
    main()
