"""``retail-insights report cost [--since] [--json] [--project QPD] [--llm-model M]``: settings to numbers to text."""

from __future__ import annotations

from datetime import UTC, datetime
import logging
import os
from typing import Any

from assistant.querylog import query_log
from monitoring.costs import CostReport, Totals, cost_report, parse_since
from monitoring.pricing import MIB, Prices, llm_call_usd
from monitoring.projection import TARGET_LLM_PER_QUERY_USD, TARGET_PER_QUERY_USD, Projection, project
from retail_insights.errors import UsageError
from retail_insights.settings import Settings, get_settings
from warehouse.spec import dataset_names

log = logging.getLogger(__name__)
DEFAULT_MODEL = "gpt-4o-mini"   # the naive way's model when the log has no priced calls and none is configured


def run(*, since: str | None = None, qpd: float | None = None, llm_model: str | None = None,
        settings: Settings | None = None, now: datetime | None = None) -> tuple[dict[str, Any], str]:
    """The report as (JSON payload, text)."""
    settings = settings or get_settings()
    prices = Prices()
    window = parse_since(since, now=now or datetime.now(UTC)) if since else None
    source = query_log(settings)
    report = cost_report(source.entries, log=str(source.path), since=window, prices=prices,
                         llm_price=lambda totals: llm_price(totals, model=llm_model, settings=settings, prices=prices),
                         base_scan_bytes=base_scan_bytes(settings))
    payload, text = report.to_json(), report_text(report)
    if qpd is not None:
        projection = project(report.totals, qpd, prices=prices, llm_call_usd=report.savings.llm_call_usd)
        payload["projection"] = projection.to_json()
        text += "\n\n" + projection_text(projection)
    return payload, text


def llm_price(totals: Totals, *, model: str | None, settings: Settings, prices: Prices) -> tuple[float, str]:
    """One LLM call's price: the log's average when it has priced calls (and no --llm-model), else the price map."""
    if model is None and totals.llm_calls and totals.cost_usd > 0:
        return totals.cost_usd / totals.llm_calls, f"the log's average over {totals.llm_calls:,} LLM calls"
    prompt, completion = prices.llm_prompt_tokens, prices.llm_completion_tokens
    if totals.llm_calls and totals.tokens:   # the log's tokens per call, split as the assumption splits them
        share = prompt / (prompt + completion)
        per_call = totals.tokens / totals.llm_calls
        prompt, completion = round(per_call * share), round(per_call * (1 - share))
    chosen = model or settings.llm.model or DEFAULT_MODEL
    try:
        usd = llm_call_usd(chosen, prompt_tokens=prompt, completion_tokens=completion)
    except UsageError:
        if model is not None:   # asked for by name: say so
            raise
        chosen, usd = DEFAULT_MODEL, llm_call_usd(DEFAULT_MODEL, prompt_tokens=prompt, completion_tokens=completion)
    return usd, f"litellm's price of {chosen} for {prompt:,} prompt + {completion:,} completion tokens"


def base_scan_bytes(settings: Settings) -> dict[str, int]:
    """Per dataset, the bytes of the silver table's current files: what a full scan of the base table reads."""
    from warehouse.delta.table import current_files, table_exists
    from warehouse.spec import load_dataset

    sizes: dict[str, int] = {}
    for dataset in dataset_names():
        path = settings.table_path(dataset, load_dataset(dataset).spec.silver_table)
        if table_exists(path):
            sizes[dataset] = sum(os.path.getsize(f.removeprefix("file://")) for f in current_files(path))
    return sizes


def report_text(report: CostReport) -> str:
    t, s = report.totals, report.savings
    tiers = ", ".join(f"{tier} {n:,}" for tier, n in sorted(t.answers_by_tier.items(), key=lambda kv: -kv[1]))
    lines = [
        f"Query log {report.log}" + (f" since {report.since}" if report.since else "") +
        (f" ({t.first_at} to {t.last_at})" if t.first_at else ""),
        f"  questions            {t.queries:,}   by tier: {tiers or '-'}",
        f"  cache hit rate       {t.cache_hit_rate:.1%} ({t.cache_hits:,} answers from L1/L2)",
        f"  LLM calls            {t.llm_calls:,} ({t.tokens:,} tokens)",
        f"  LLM cost             ${t.cost_usd:,.4f}   per question ${t.cost_per_query_usd:.5f} "
        f"(target under ${TARGET_LLM_PER_QUERY_USD})",
        f"  bytes read           {t.bytes_read / MIB:,.1f} MiB in {t.warehouse_queries:,} warehouse reads",
        f"  on BigQuery          ${report.bigquery_on_demand_usd:,.4f} on demand "
        f"({t.bigquery_billed_bytes / MIB:,.1f} MiB billed)",
        f"Savings against one LLM call and one base-table scan per question: ${s.total_usd:,.4f} "
        f"(${s.naive_usd:,.4f} naive, ${s.actual_usd:,.4f} spent)",
        f"  caches               ${s.caches_usd:,.4f}",
        f"  rules and semantic   ${s.rules_usd:,.4f}   (no LLM call)",
        f"  views                ${s.views_usd:,.4f}   (fewer bytes than the base table)",
        f"  LLM tier             ${s.llm_usd:,.4f}   (its calls against the per-call price)",
        f"  per-call price       ${s.llm_call_usd:.5f}: {s.llm_call_basis}",
        "  base-table scans     " + (", ".join(f"{d} {b / MIB:,.1f} MiB" for d, b in sorted(s.base_scan_bytes.items()))
                                     or "no silver table found: base scans count as empty"),
        "Assumptions: " + "; ".join(report.assumptions) + ".",
    ]
    return "\n".join(lines)


def projection_text(p: Projection) -> str:
    lines = [
        f"Projection at {p.qpd:,.0f} questions a day ({p.questions_per_month:,.0f} a month):",
        f"  LLM                  ${p.llm_usd:,.2f} a month",
        f"  warehouse            ${p.warehouse_usd:,.2f} a month ({p.warehouse_plan}; on demand "
        f"${p.bigquery_on_demand_usd:,.2f}, reservation ${p.bigquery_reservation_usd:,.2f})",
        f"  total                ${p.total_usd:,.2f} a month, ${p.cost_per_query_usd:.5f} per question "
        f"(target about ${TARGET_PER_QUERY_USD}); LLM ${p.llm_per_query_usd:.5f} per question "
        f"(target under ${TARGET_LLM_PER_QUERY_USD})",
        "Tipping points (where a fixed monthly price pays for itself):",
        *(f"  {tp.what:<31} ${tp.month_usd:,.0f}/month: pays from {tp.pays_at} "
          f"(saves ${tp.saves_per_question_usd:.6f} per question: {tp.basis})" for tp in p.tipping_points),
        f"Assumptions: {p.assumptions[0]}; prices as above.",
    ]
    return "\n".join(lines)
