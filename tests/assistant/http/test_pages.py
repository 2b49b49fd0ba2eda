"""The web pages in a real headless Chromium against a real `retail-insights serve` on loopback.

One server (over ``ingested_home``: the test warehouse plus one real batch) and one browser serve
the whole module; each test gets a fresh browser context. After every test: no console errors and
no request to anywhere but the server. Async questions use the module's own Redis database, so the
worker started by the test drains only this module's tasks.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
import json
import re
import os
from pathlib import Path
import subprocess
import sys
import threading
import time

import httpx
from playwright.sync_api import Browser, expect
import pytest
import uvicorn

from assistant.http.app import create_app
from assistant.http.pages import IMMUTABLE, STATIC_DIR
from assistant.pipeline import Assistant
from retail_insights.services import free_port
from retail_insights.settings import Settings
from tests.assistant.http.browsing import Browsing, ask, chromium
from tests.assistant.http.conftest import ROOT, Ingested, Served
from tests.services import ensure_chromium

QUESTION = "sales by region in 2016"
WEST_2016 = "West $187,480.18"
TOTAL_2016 = "$609,205.60"


@pytest.fixture(scope="module")
def web_redis(redis_url: str) -> str:
    return redis_url.rsplit("/", 1)[0] + "/9"


@pytest.fixture(scope="module")
def server(ingested_home: Ingested, web_redis: str) -> Iterator[Served]:
    served = Served(ingested_home.home, workers=1, env={"RETAIL_REDIS__URL": web_redis})
    try:
        served.wait_ready()
        yield served
    finally:
        served.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    with chromium(ensure_chromium(log_dir=tmp_path_factory.mktemp("chromium"))) as launched:
        yield launched


@contextmanager
def browsing(browser: Browser, url: str, **options) -> Iterator[Browsing]:
    """A fresh context on ``url``; afterwards, no console error and no request off the server."""
    web = Browsing(browser, url, **options)
    try:
        yield web
    finally:
        web.close()
    assert web.errors == [], "console errors"
    assert web.off_origin() == [], "requests that left the server"


@pytest.fixture
def web(browser: Browser, server: Served) -> Iterator[Browsing]:
    with browsing(browser, server.url) as page:
        yield page


def open_ask_page(web: Browsing) -> None:
    web.page.goto("/")
    web.page.get_by_label("Dataset").select_option("superstore")


def test_a_question_gets_its_sentence_table_drawn_chart_and_collapsed_sql(web: Browsing) -> None:
    open_ask_page(web)
    answer, body = ask(web.page, QUESTION)
    expect(answer.locator(".sentence")).to_contain_text(WEST_2016)
    rows = answer.get_by_role("table").locator("tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.first.locator("td")).to_have_text(["West", "$187,480.18"])

    answer.get_by_role("button", name="sales").click()   # sort: smallest first
    expect(rows.first.locator("td").first).to_have_text("South")
    answer.get_by_role("button", name="Copy CSV").click()
    csv = web.page.evaluate("navigator.clipboard.readText()")
    assert csv.splitlines()[:2] == ["region,sales", f"West,{body['rows'][0][1]}"]

    chart = answer.get_by_role("figure", name="Chart").locator("svg.marks")
    expect(chart).to_be_visible()
    box = chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 60
    expect(chart.locator("path, rect").first).to_be_attached()

    sql = answer.get_by_role("group", name="SQL")
    expect(sql.locator("code")).to_be_hidden()
    sql.locator("summary").click()
    expect(sql.locator("code")).to_contain_text(body["sql"])

    expect(answer.get_by_role("list", name="Interpretation")).to_contain_text("dates: 2016-01-01 to 2016-12-31")
    meta = answer.locator(".meta")
    expect(meta).to_contain_text(f"tier {body['tier']}")
    expect(meta).to_contain_text(f"data version {body['data_version']} · data updated")


def test_a_follow_up_carries_the_conversation_and_new_conversation_starts_over(web: Browsing) -> None:
    open_ask_page(web)
    _, first = ask(web.page, "sales by region in 2015")
    follow_up, second = ask(web.page, "and in 2016?")
    expect(follow_up.locator(".sentence")).to_contain_text(WEST_2016)
    expect(follow_up.get_by_role("list", name="Interpretation")).to_contain_text(
        'follow-up of "sales by region in 2015"')
    assert web.asked[1]["conversation_id"] == first["conversation_id"] == second["conversation_id"]

    web.page.get_by_role("button", name="New conversation").click()
    fresh, _ = ask(web.page, "total sales in 2016")
    expect(fresh.locator(".sentence")).to_contain_text(TOTAL_2016)
    assert "conversation_id" not in web.asked[2]


def test_a_clarifying_answer_offers_suggestions_that_ask_in_one_click(web: Browsing) -> None:
    open_ask_page(web)
    clarify, body = ask(web.page, "profit by thing")
    expect(clarify).to_have_attribute("data-status", "clarify")
    suggestion = body["suggestions"][-1]
    clarify.get_by_role("group", name="Suggestions").get_by_role("button", name=suggestion).click()
    answered = web.page.get_by_role("region", name="Answer").nth(1)
    expect(answered).to_have_attribute("data-status", "answered")
    expect(web.page.locator(".you").nth(1)).to_have_text(suggestion)
    assert web.asked[1]["question"] == suggestion


def test_feedback_buttons_record_votes_on_the_server(web: Browsing, ingested_home: Ingested) -> None:
    open_ask_page(web)
    first, good = ask(web.page, QUESTION)
    first.get_by_role("button", name="Helpful", exact=True).click()
    expect(first.get_by_role("group", name="Feedback")).to_contain_text("Feedback recorded")
    second, bad = ask(web.page, "profit by region in 2016")
    second.get_by_role("button", name="Not helpful").click()
    second.get_by_label("Reason (optional)").fill("wanted it by state")
    second.get_by_role("button", name="Send").click()
    expect(second.get_by_role("group", name="Feedback")).to_contain_text("Feedback recorded")

    lines = (ingested_home.home / "state" / "feedback.jsonl").read_text().splitlines()
    votes = {r["answer_id"]: r for r in map(json.loads, lines)}
    assert (votes[good["answer_id"]]["helpful"], votes[good["answer_id"]]["comment"]) == (True, None)
    assert (votes[bad["answer_id"]]["helpful"], votes[bad["answer_id"]]["comment"]) == (False, "wanted it by state")
    assert votes[bad["answer_id"]]["answer"]["question"] == "profit by region in 2016"


def test_a_queued_question_is_polled_to_its_answer_while_another_is_answered(
        web: Browsing, ingested_home: Ingested, web_redis: str) -> None:
    open_ask_page(web)
    web.page.get_by_label("Run in background").check()
    web.page.get_by_label("Question").fill("total sales in 2016")
    web.page.get_by_label("Question").press("Enter")
    queued = web.page.get_by_role("region", name="Answer").first
    expect(queued.get_by_role("status")).to_contain_text("Queued, waiting for a worker")

    web.page.get_by_label("Run in background").uncheck()
    meanwhile, _ = ask(web.page, QUESTION)
    expect(meanwhile.locator(".sentence")).to_contain_text(WEST_2016)
    expect(queued).to_have_attribute("aria-busy", "true")
    assert web.asked[0]["async"] is True

    env = {**os.environ, "RETAIL_HOME": str(ingested_home.home), "RETAIL_REDIS__URL": web_redis}
    worker = subprocess.run([sys.executable, "-m", "assistant.http.worker", "--burst"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    assert worker.returncode == 0, worker.stderr[-2000:]
    expect(queued.locator(".sentence")).to_contain_text(TOTAL_2016, timeout=30_000)
    expect(queued.get_by_role("group", name="Feedback")).to_be_visible()


def test_the_data_health_page_shows_the_last_batch_and_its_row_accounting(web: Browsing,
                                                                       ingested_home: Ingested) -> None:
    batch = ingested_home.summary
    web.page.goto("/data")
    superstore = web.page.get_by_role("region", name="superstore")
    expect(superstore.locator(".accounting")).to_contain_text(
        f"Last batch {batch['batch_id']} (")
    expect(superstore.locator(".accounting")).to_contain_text(
        f"{batch['input_rows']} input = {batch['written_rows']} written + {batch['quarantined_rows']} quarantined "
        f"+ {batch['duplicate_rows']} duplicates; every row accounted for.")
    codes = superstore.get_by_role("table").filter(has_text="reason code").locator("tbody tr")
    expect(codes).to_have_count(len(batch["quarantined_by_code"]))
    for code, count in batch["quarantined_by_code"].items():
        expect(codes.filter(has_text=code).locator("td").last).to_have_text(str(count))

    docs = web.page.get_by_role("link", name="Great Expectations Data Docs")
    page = web.page.request.get(docs.get_attribute("href"))
    assert page.status == 200 and "Data quality" in page.text()


def test_the_sql_page_shows_rows_and_the_guards_reason_for_a_delete(web: Browsing, server: Served) -> None:
    web.allow_status(400)
    web.page.goto("/sql")
    web.page.get_by_label("Dataset").select_option("superstore")
    web.page.get_by_role("button", name="Run").click()
    expect(web.page.get_by_role("region", name="Result").locator("tbody tr")).to_have_count(4)

    delete = "DELETE FROM superstore WHERE region = 'West'"
    refused = httpx.post(f"{server.url}/v1/sql", json={"sql": delete, "dataset": "superstore"})
    assert refused.status_code == 400
    web.page.get_by_label("Query").fill(delete)
    web.page.get_by_label("Query").press("Control+Enter")
    expect(web.page.get_by_role("alert")).to_have_text(refused.json()["detail"])


def test_the_page_fits_a_380px_screen_in_the_systems_dark_theme(browser: Browser, server: Served) -> None:
    with browsing(browser, server.url, width=380, height=800, color_scheme="dark") as web:
        open_ask_page(web)
        answer, _ = ask(web.page, "monthly sales trend in 2016 by segment")
        expect(answer.get_by_role("figure", name="Chart").locator("svg.marks")).to_be_visible()
        assert web.page.evaluate("document.scrollingElement.scrollWidth") <= 380
        assert web.page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(21, 24, 28)"


# --- with API keys on ----------------------------------------------------------------------------------


class ThreadServer:
    """The app under uvicorn in a thread, on a free loopback port (for an app built in this process)."""

    def __init__(self, app) -> None:
        self.url = f"http://127.0.0.1:{(port := free_port())}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ThreadServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "uvicorn did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def test_with_api_keys_the_page_asks_for_a_key_once_and_keeps_it_for_the_tab(
        browser: Browser, warehouse_home: Path, warm_assistant: Assistant) -> None:
    key = "ri_test-key-for-the-page"
    app = create_app(Settings(home=warehouse_home, api={"auth_enabled": True, "api_keys": [key]}), warm_assistant)
    with ThreadServer(app) as served:
        with browsing(browser, served.url) as web:
            web.allow_status(401)
            statuses: list[int] = []
            web.page.on("response", lambda r: statuses.append(r.status) if "/v1/" in r.url else None)
            web.page.goto("/")
            dialog = web.page.get_by_role("dialog", name="API key")
            dialog.get_by_label("API key").fill("ri_wrong")
            dialog.get_by_role("button", name="Use key").click()
            expect(dialog).to_contain_text("unknown API key")
            dialog.get_by_label("API key").fill(key)
            dialog.get_by_role("button", name="Use key").click()
            expect(dialog).to_be_hidden()

            web.page.get_by_label("Dataset").select_option("superstore")
            answer, _ = ask(web.page, "total sales in 2016")
            expect(answer.locator(".sentence")).to_contain_text(TOTAL_2016)
            assert web.page.evaluate("sessionStorage.getItem('retail-insights.api-key')") == key
            refused = len(statuses)
            web.page.goto("/data")
            expect(web.page.get_by_role("region", name="superstore")).to_be_visible()
            expect(dialog).to_be_hidden()
            assert 401 not in statuses[refused:]


# --- served files (no browser) -------------------------------------------------------------------------


def test_pages_load_only_from_their_own_origin(client) -> None:
    for path in ("/", "/data", "/sql"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "connect-src 'self'" in policy and "unsafe-eval" not in policy
        assert all(url.startswith("/") for url in re.findall(r'(?:src|href)="([^"]*)"', response.text))


def test_the_vendored_chart_builds_are_cached_for_a_year_and_carry_their_licences(client) -> None:
    vendored = [p for p in (STATIC_DIR / "vendor").iterdir() if p.is_dir()]
    assert sorted(p.name.split("@")[0] for p in vendored) == ["vega", "vega-embed", "vega-lite"]
    for folder in vendored:
        assert "Redistribution and use in source and binary forms" in (folder / "LICENSE").read_text()
        (build,) = folder.glob("*.min.js")
        response = client.get(f"/static/vendor/{folder.name}/{build.name}")
        assert response.status_code == 200 and response.headers["cache-control"] == IMMUTABLE
        assert f'src="/static/vendor/{folder.name}/{build.name}"' in client.get("/").text
    assert client.get("/static/js/ask.js").headers["cache-control"] == "no-cache"


def test_a_missing_asset_is_a_404(client) -> None:
    assert client.get("/static/js/nope.js").status_code == 404
