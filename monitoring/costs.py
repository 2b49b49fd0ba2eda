"""The cost statement of the query log (``assistant.querylog``): ``retail-insights report cost``.

Every answered question left a line with its tier, bytes read, LLM calls, tokens and ``cost_usd`` (the
price litellm's price map gave the calls). The report adds them up over a window and prices the bytes
at BigQuery's on-demand rate. Its savings compare the real spend with answering every question the
naive way, one LLM call plus a scan of the base table each, and split the difference by what avoided
it: the caches (nothing read, nothing asked), the rules and semantic tiers (no LLM call) and the views
(fewer bytes than the base table).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
import re
from typing import Any

from assistant.http.metrics import CACHE_TIERS
from monitoring.pricing import Prices
from retail_insights.errors import UsageError

_AGE = re.compile(r"^(\d+)([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True)
class Totals:
    queries: int
    answers_by_tier: dict[str, int]
    answers_by_status: dict[str, int]
    cache_hits: int
    llm_calls: int
    tokens: int
    cost_usd: float
    bytes_read: int
    warehouse_queries: int           # lines that read the warehouse (bytes_read > 0)
    bigquery_billed_bytes: int       # the same bytes with BigQuery's minimum per query
    queries_by_dataset: dict[str, int] = field(default_factory=dict)
    first_at: str | None = None
    last_at: str | None = None

    @property
    def cache_hit_rate(self) -> float:
        return self.cache_hits / self.queries if self.queries else 0.0

    @property
    def cost_per_query_usd(self) -> float:
        return self.cost_usd / self.queries if self.queries else 0.0


@dataclass(frozen=True)
class Savings:
    """Against one LLM call and one base-table scan per question; the parts add up to ``total_usd``."""

    llm_call_usd: float              # what the naive way pays per question for the LLM
    llm_call_basis: str              # where that price comes from
    base_scan_bytes: dict[str, int]  # per dataset: the silver table's bytes, one full scan
    naive_usd: float
    actual_usd: float                # LLM cost plus the bytes read at BigQuery on-demand prices
    total_usd: float
    caches_usd: float
    rules_usd: float                 # answers the rules or semantic tiers gave without an LLM call
    views_usd: float                 # bytes the views (and pruning) did not read
    llm_usd: float                   # the LLM tier's own difference from the per-call price


@dataclass(frozen=True)
class CostReport:
    log: str
    since: str | None
    totals: Totals
    bigquery_on_demand_usd: float
    savings: Savings
    assumptions: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        t = self.totals
        return {
            "log": self.log, "since": self.since, "first_at": t.first_at, "last_at": t.last_at,
            "queries": t.queries, "answers_by_tier": t.answers_by_tier, "answers_by_status": t.answers_by_status,
            "queries_by_dataset": t.queries_by_dataset, "cache_hits": t.cache_hits,
            "cache_hit_rate": t.cache_hit_rate, "llm_calls": t.llm_calls, "tokens": t.tokens, "cost_usd": t.cost_usd,
            "cost_per_query_usd": t.cost_per_query_usd, "bytes_read": t.bytes_read,
            "warehouse_queries": t.warehouse_queries, "bigquery_billed_bytes": t.bigquery_billed_bytes,
            "bigquery_on_demand_usd": self.bigquery_on_demand_usd, "savings": asdict(self.savings),
            "assumptions": list(self.assumptions),
        }


def parse_since(text: str, *, now: datetime) -> datetime:
    """``--since``: an age (``30m``, ``24h``, ``7d``, ``2w``) or an ISO date or date and time (UTC when naive)."""
    age = _AGE.match(text.strip())
    if age:
        return now - timedelta(**{_UNITS[age.group(2)]: int(age.group(1))})
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"--since {text!r} is neither an age nor a date.",
                         hint="Use an age such as 24h, 7d or 30m, or an ISO date or time such as 2026-01-31 or "
                              "2026-01-31T12:00.") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def in_window(entries: Iterable[dict[str, Any]], since: datetime | None) -> Iterable[dict[str, Any]]:
    for entry in entries:
        if since is None or _at(entry) >= since:
            yield entry


def totals_of(entries: Iterable[dict[str, Any]], *, prices: Prices) -> Totals:
    """Sums over query-log lines (``assistant.querylog.entry_of``)."""
    tiers: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    datasets: Counter[str] = Counter()
    llm_calls = tokens = bytes_read = warehouse = billed = 0
    cost = 0.0
    first = last = None
    for e in entries:
        tiers[e.get("tier") or "none"] += 1
        statuses[e.get("status") or "unknown"] += 1
        datasets[e.get("dataset") or "unknown"] += 1
        llm_calls += int(e.get("llm_calls") or 0)
        tokens += int(e.get("tokens") or 0)
        cost += float(e.get("cost_usd") or 0.0)
        read = int(e.get("bytes_read") or 0)
        bytes_read += read
        warehouse += read > 0
        billed += prices.billed_bytes(read)
        first, last = first or e.get("at"), e.get("at") or last
    return Totals(sum(tiers.values()), dict(tiers), dict(statuses), sum(tiers[t] for t in CACHE_TIERS),
                  llm_calls, tokens, cost, bytes_read, warehouse, billed, dict(datasets), first, last)


def savings_of(entries: Iterable[dict[str, Any]], *, prices: Prices, llm_call_usd: float, basis: str,
               base_scan_bytes: Mapping[str, int]) -> Savings:
    """What the caches, rules and views saved against one LLM call and one base-table scan per question."""
    parts = {"caches": 0.0, "rules": 0.0, "views": 0.0, "llm": 0.0}
    naive = actual = 0.0
    for e in entries:
        scan = prices.bigquery_usd(prices.billed_bytes(base_scan_bytes.get(e.get("dataset") or "", 0)))
        read = prices.bigquery_usd(prices.billed_bytes(int(e.get("bytes_read") or 0)))
        spent = float(e.get("cost_usd") or 0.0)
        naive, actual = naive + llm_call_usd + scan, actual + spent + read
        if e.get("tier") in CACHE_TIERS:
            parts["caches"] += llm_call_usd + scan - spent - read
            continue
        parts["views"] += scan - read
        parts["llm" if e.get("tier") == "llm" else "rules"] += llm_call_usd - spent
    return Savings(llm_call_usd, basis, dict(base_scan_bytes), naive, actual, naive - actual,
                   parts["caches"], parts["rules"], parts["views"], parts["llm"])


def cost_report(entries: Callable[[], Iterable[dict[str, Any]]], *, log: str, since: datetime | None,
                prices: Prices, llm_price: Callable[[Totals], tuple[float, str]],
                base_scan_bytes: Mapping[str, int]) -> CostReport:
    """The statement over the lines ``entries()`` yields (read twice) within ``since``.

    ``llm_price(totals)`` gives the naive way's price of one LLM call and where it comes from.
    """
    totals = totals_of(in_window(entries(), since), prices=prices)
    per_call, basis = llm_price(totals)
    savings = savings_of(in_window(entries(), since), prices=prices, llm_call_usd=per_call, basis=basis,
                         base_scan_bytes=base_scan_bytes)
    return CostReport(log, since.isoformat() if since else None, totals,
                      prices.bigquery_usd(totals.bigquery_billed_bytes), savings, tuple(prices.assumptions()))


def _at(entry: dict[str, Any]) -> datetime:
    try:
        when = datetime.fromisoformat(str(entry.get("at")))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return when if when.tzinfo else when.replace(tzinfo=UTC)
