"""``retail-insights report cost``: its numbers are a recount of the query log; savings and projections add up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
import os
from pathlib import Path
import subprocess
import sys

import pytest

from assistant.querylog import entry_of, query_log
from monitoring.costs import parse_since, savings_of, totals_of
from monitoring.pricing import DAYS_PER_MONTH, MIB, Prices
from monitoring.projection import project
from retail_insights.errors import UsageError
from retail_insights.services import PROJECT_ROOT
from retail_insights.settings import Settings

QUESTIONS = [("superstore", "total sales in 2016"), ("superstore", "sales by region in 2016"),
             ("retail_sales", "revenue by region in 2023"), ("superstore", "total sales in 2016"),
             ("superstore", "sales by region in 2016"), ("superstore", "what is the weather like")]


def cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RETAIL_HOME": str(home), "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    return subprocess.run([sys.executable, "-m", "retail_insights.cli", "report", "cost", *args], cwd=PROJECT_ROOT,
                          env=env, capture_output=True, text=True, timeout=300, check=False)


def llm_answer(cost: float, tokens: int, bytes_read: int) -> dict:
    """An LLM-tier answer as the pipeline's Answer.to_dict() has it (the tier needs a provider to run here)."""
    return {"status": "answered", "tier": "llm", "dataset": "superstore", "question": "an odd one", "llm_calls": 1,
            "cost_usd": cost, "bytes_read": bytes_read, "latency_ms": 900.0, "data_version": 1,
            "interpretation": {"llm": {"tokens": tokens, "model": "gpt-4o-mini"}}}


@pytest.fixture
def logged(warehouse_home: Path) -> Path:
    """A query log of real answers from the HTTP tests' warehouse, two LLM answers and one from last month."""
    from assistant.factory import build_assistant

    assistant = build_assistant(Settings(home=warehouse_home), semantic=False)
    log = query_log()
    for dataset, question in QUESTIONS:
        log.append(assistant.answer(question, dataset=dataset).to_dict())
    log.append(llm_answer(0.0021, 1800, 2 * MIB))
    log.append(llm_answer(0.0034, 2400, 0))
    old = entry_of(llm_answer(5.0, 9000, 50 * MIB), at=datetime.now(UTC) - timedelta(days=40))
    with log.path.open("a") as out:
        out.write(json.dumps(old) + "\n")
    return warehouse_home


def recount(path: Path, *, since: datetime | None = None) -> dict:
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    lines = [e for e in lines if since is None or datetime.fromisoformat(e["at"]) >= since]
    tiers: dict[str, int] = {}
    for e in lines:
        tiers[e["tier"] or "none"] = tiers.get(e["tier"] or "none", 0) + 1
    hits = sum(e["tier"] in ("cache_l1", "cache_l2") for e in lines)
    cost = sum(e["cost_usd"] for e in lines)
    return {"queries": len(lines), "answers_by_tier": tiers, "llm_calls": sum(e["llm_calls"] for e in lines),
            "cost_usd": cost, "cost_per_query_usd": cost / len(lines), "cache_hit_rate": hits / len(lines),
            "bytes_read": sum(e["bytes_read"] for e in lines), "tokens": sum(e["tokens"] for e in lines)}


def test_report_cost_json_equals_a_recount_of_the_query_log(logged: Path) -> None:
    done = cli("--json", home=logged)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    expected = recount(logged / "state" / "queries.jsonl")
    for key in ("queries", "answers_by_tier", "llm_calls", "bytes_read", "tokens"):
        assert report[key] == expected[key], key
    for key in ("cost_usd", "cost_per_query_usd", "cache_hit_rate"):
        assert report[key] == pytest.approx(expected[key], rel=1e-12), key
    assert report["queries"] == len(QUESTIONS) + 3 and report["answers_by_tier"]["cache_l1"] == 2
    assert report["bytes_read"] > 50 * MIB


def test_since_leaves_out_older_questions(logged: Path) -> None:
    report = json.loads(cli("--since", "7d", "--json", home=logged).stdout.strip().splitlines()[-1])
    expected = recount(logged / "state" / "queries.jsonl", since=datetime.now(UTC) - timedelta(days=7))
    assert (report["queries"], report["llm_calls"]) == (expected["queries"], expected["llm_calls"]) == (8, 2)
    assert report["cost_usd"] == pytest.approx(0.0055)


def test_the_text_report_names_the_numbers_and_the_assumptions(logged: Path) -> None:
    done = cli("--since", "7d", home=logged)
    assert done.returncode == 0, done.stderr
    assert "questions            8" in done.stdout and "cache hit rate       25.0%" in done.stdout
    assert "$6.25 per TiB" in done.stdout and "the log's average over 2 LLM calls" in done.stdout


def test_savings_split_into_caches_rules_views_and_the_llm_tier_and_add_up() -> None:
    prices = Prices()
    entries = [{"tier": "cache_l1", "dataset": "d", "bytes_read": 0, "cost_usd": 0.0},
               {"tier": "metadata", "dataset": "d", "bytes_read": 20 * MIB, "cost_usd": 0.0},
               {"tier": "llm", "dataset": "d", "bytes_read": 100 * MIB, "cost_usd": 0.003},
               {"tier": None, "status": "clarify", "dataset": "d", "bytes_read": 0, "cost_usd": 0.0}]
    scan = prices.bigquery_usd(100 * MIB)
    s = savings_of(entries, prices=prices, llm_call_usd=0.002, basis="test", base_scan_bytes={"d": 100 * MIB})
    assert s.caches_usd == pytest.approx(0.002 + scan)
    assert s.rules_usd == pytest.approx(2 * 0.002)
    assert s.views_usd == pytest.approx(3 * scan - prices.bigquery_usd(20 * MIB) - scan)
    assert s.llm_usd == pytest.approx(0.002 - 0.003)
    assert s.total_usd == pytest.approx(s.caches_usd + s.rules_usd + s.views_usd + s.llm_usd)
    assert s.total_usd == pytest.approx(s.naive_usd - s.actual_usd)


def test_bigquery_bills_at_least_ten_mib_for_a_query_that_reads() -> None:
    totals = totals_of([{"bytes_read": 1024}, {"bytes_read": 0}, {"bytes_read": 30 * MIB}], prices=Prices())
    assert (totals.warehouse_queries, totals.bigquery_billed_bytes) == (2, 40 * MIB)


def test_the_reservation_pays_for_itself_exactly_at_its_tipping_point() -> None:
    prices = Prices()
    totals = totals_of([{"tier": "metadata", "bytes_read": 200 * MIB, "cost_usd": 0.001, "llm_calls": 1}] * 4
                       + [{"tier": "cache_l1", "bytes_read": 0}] * 4, prices=prices)
    at_tip = project(totals, 1.0, prices=prices, llm_call_usd=0.001).tipping_points[0]
    assert at_tip.what == "BigQuery reservation" and at_tip.qpd is not None
    there = project(totals, at_tip.qpd, prices=prices, llm_call_usd=0.001)
    assert there.bigquery_on_demand_usd == pytest.approx(there.bigquery_reservation_usd)
    busier = project(totals, at_tip.qpd * 2, prices=prices, llm_call_usd=0.001)
    assert busier.warehouse_plan == "reservation" and busier.warehouse_usd == busier.bigquery_reservation_usd
    assert busier.total_usd == pytest.approx(busier.llm_usd + busier.warehouse_usd)
    assert busier.cost_per_query_usd == pytest.approx(busier.total_usd / (at_tip.qpd * 2 * DAYS_PER_MONTH))


def test_project_prints_the_month_the_tipping_points_and_the_assumptions(logged: Path) -> None:
    done = cli("--project", "20000", "--json", home=logged)
    assert done.returncode == 0, done.stderr
    projection = json.loads(done.stdout.strip().splitlines()[-1])["projection"]
    assert projection["qpd"] == 20000
    assert [t["what"] for t in projection["tipping_points"]] == [
        "BigQuery reservation", "Redis (shared L2 cache)", "Pinecone (shared vector index)"]
    assert any("50 slots" in a for a in projection["assumptions"])
    text = cli("--project", "20000", home=logged).stdout
    assert "Projection at 20,000 questions a day" in text and "Tipping points" in text


@pytest.mark.parametrize("args, message", [
    (("--project", "0"), "--project 0 is not a number of questions per day. Pass a positive number"),
    (("--since", "last tuesday"), "--since 'last tuesday' is neither an age nor a date. Use an age such as 24h"),
    (("--llm-model", "gpt-4o-mimi"), "the LLM model 'gpt-4o-mimi' has no price in litellm's price map. Did you mean"),
])
def test_bad_values_are_named_with_the_fix_and_exit_2(logged: Path, args: tuple[str, ...], message: str) -> None:
    done = cli(*args, home=logged)
    assert done.returncode == 2
    assert message in done.stderr and done.stderr.startswith("error: ")


def test_an_empty_log_cannot_be_projected() -> None:
    with pytest.raises(UsageError, match="no questions in the window"):
        project(totals_of([], prices=Prices()), 100, prices=Prices(), llm_call_usd=0.001)


def test_parse_since_reads_ages_and_dates() -> None:
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    assert parse_since("24h", now=now) == datetime(2026, 3, 9, 12, tzinfo=UTC)
    assert parse_since("2w", now=now) == datetime(2026, 2, 24, 12, tzinfo=UTC)
    assert parse_since("2026-03-01", now=now) == datetime(2026, 3, 1, tzinfo=UTC)
