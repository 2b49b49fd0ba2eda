"""monitoring.exporter: data health, budget and Redis as Prometheus metrics, one family per name."""

from __future__ import annotations

import json

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from monitoring.exporter import DataHealthCollector, ServiceCollector
from retail_insights.settings import get_settings


def _samples(*collectors) -> dict:
    registry = CollectorRegistry()
    for collector in collectors:
        registry.register(collector)
    text = generate_latest(registry).decode()
    families = list(text_string_to_metric_families(text))
    assert len({f.name for f in families}) == len(families)   # the format allows one family per name
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples}


def _ledger(events: list[dict]) -> None:
    folder = get_settings().state_dir / "ingest"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "retail_sales.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))


def test_both_datasets_share_one_family_per_metric() -> None:
    samples = _samples(DataHealthCollector(get_settings(), datasets=["retail_sales", "superstore"]))
    committed = {k: v for k, v in samples.items() if k[0] == "retail_batches_total"}
    assert committed == {("retail_batches_total", (("dataset", d), ("outcome", o))): 0.0
                         for d in ("retail_sales", "superstore") for o in ("committed", "failed")}


def test_the_ledger_is_read_again_only_after_the_ttl() -> None:
    now = [0.0]
    collector = DataHealthCollector(get_settings(), datasets=["retail_sales"], ttl_s=10, clock=lambda: now[0])
    key = ("retail_batches_total", (("dataset", "retail_sales"), ("outcome", "committed")))
    assert _samples(collector)[key] == 0
    _ledger([{"event": "started", "batch_id": "a", "at": "2026-03-01T00:00:00+00:00"},
             {"event": "committed", "batch_id": "a", "summary": {"input_rows": 5, "quarantined_by_code": {}}}])
    now[0] = 9.0
    assert _samples(collector)[key] == 0
    now[0] = 10.0
    assert _samples(collector)[key] == 1


def test_a_broken_record_leaves_the_rest_of_the_scrape_working(caplog) -> None:
    path = get_settings().table_path("retail_sales", "sales") / "_delta_log"
    path.mkdir(parents=True)
    (path / "00000000000000000000.json").write_text("not a delta log")
    _ledger([{"event": "started", "batch_id": "a", "at": "2026-03-01T00:00:00+00:00"}])
    samples = _samples(DataHealthCollector(get_settings(), datasets=["retail_sales"]))
    assert ("retail_data_version", (("dataset", "retail_sales"),)) not in samples
    assert samples[("retail_batch_open_since_timestamp_seconds", (("dataset", "retail_sales"),))] > 0
    assert "could not read the retail_sales table" in caplog.text


def test_the_budget_counts_todays_spend_of_every_key_and_redis_is_reported_only_when_configured() -> None:
    from assistant.llm.budget import Budget, caller_scope

    settings = get_settings()
    with caller_scope("key-a"):
        Budget.from_settings(settings).charge(1.25)
    with caller_scope("key-b"):
        Budget.from_settings(settings).charge(0.5)
    samples = _samples(ServiceCollector(settings, redis_status=lambda: "off"))
    assert samples[("retail_llm_budget_spent_usd", ())] == 1.75
    assert samples[("retail_llm_budget_limit_usd", ())] == settings.llm.daily_budget_usd_total
    assert ("retail_redis_up", ()) not in samples
    assert _samples(ServiceCollector(settings, redis_status=lambda: "down"))[("retail_redis_up", ())] == 0
