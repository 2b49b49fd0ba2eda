"""``report cost --project QPD``: the month at a given number of questions per day, and the tipping points.

The observed mix (cache hits, LLM calls, warehouse reads and bytes per question) is scaled to ``qpd``
questions a day. A tipping point is the number of questions a day from which a fixed monthly price
costs less than what it saves:

- BigQuery reservation: when on-demand bytes would cost more than the slots;
- Redis (the shared L2 cache): when the answers it adds to the per-process L1 save more than Redis
  costs; the extra hit rate is the observed ``cache_l2`` share, else ``L2_EXTRA_HIT_RATE``;
- Pinecone (a shared vector index): when the LLM calls its semantic answers avoid cost more than its
  minimum; the semantic share is the observed one, else ``SEMANTIC_SHARE``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from monitoring.costs import Totals
from monitoring.pricing import DAYS_PER_MONTH, Prices
from retail_insights.errors import UsageError

L2_EXTRA_HIT_RATE = 0.10   # answers a shared cache serves that a process's own L1 would miss
SEMANTIC_SHARE = 0.05      # questions the semantic tier answers instead of the LLM
TARGET_PER_QUERY_USD = 0.004
TARGET_LLM_PER_QUERY_USD = 0.01


@dataclass(frozen=True)
class TippingPoint:
    what: str
    month_usd: float
    saves_per_question_usd: float
    qpd: float | None            # None: it never pays at this mix
    basis: str

    @property
    def pays_at(self) -> str:
        return "never at this mix" if self.qpd is None else f"{self.qpd:,.0f} questions a day"


@dataclass(frozen=True)
class Projection:
    qpd: float
    questions_per_month: float
    llm_usd: float
    bigquery_on_demand_usd: float
    bigquery_reservation_usd: float
    warehouse_usd: float           # the cheaper of the two
    warehouse_plan: str
    total_usd: float
    cost_per_query_usd: float
    llm_per_query_usd: float
    tipping_points: tuple[TippingPoint, ...]
    assumptions: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"targets": {"cost_per_query_usd": TARGET_PER_QUERY_USD,
                                           "llm_per_query_usd": TARGET_LLM_PER_QUERY_USD}}


def project(totals: Totals, qpd: float, *, prices: Prices, llm_call_usd: float) -> Projection:
    """The month at ``qpd`` questions a day with the mix of ``totals``."""
    if qpd <= 0:
        raise UsageError(f"--project {qpd:g} is not a number of questions per day.",
                         hint="Pass a positive number, e.g. --project 10000.")
    if totals.queries == 0:
        raise UsageError("the query log has no questions in the window, so there is no mix to project.",
                         hint="Fix: widen --since, or ask questions first (every answer is logged).")
    n = totals.queries
    month = qpd * DAYS_PER_MONTH
    llm_per_question = (totals.cost_usd / n) if totals.cost_usd else totals.llm_calls / n * llm_call_usd
    bq_per_question = prices.bigquery_usd(totals.bigquery_billed_bytes) / n
    on_demand = month * bq_per_question
    reservation = prices.reservation_month_usd
    warehouse, plan = (on_demand, "on demand") if on_demand <= reservation else (reservation, "reservation")
    llm = month * llm_per_question
    uncached = max(n - totals.cache_hits, 1)
    per_uncached = (llm_per_question + bq_per_question) * n / uncached
    l2_share = totals.answers_by_tier.get("cache_l2", 0) / n
    semantic = totals.answers_by_tier.get("semantic", 0) / n
    points = (
        _point("BigQuery reservation", reservation, bq_per_question,
               f"{prices.bigquery_slots} slots against on-demand bytes of the observed mix"),
        _point("Redis (shared L2 cache)", prices.redis_month_usd, (l2_share or L2_EXTRA_HIT_RATE) * per_uncached,
               f"{'observed' if l2_share else 'assumed'} extra hit rate {(l2_share or L2_EXTRA_HIT_RATE):.0%} "
               f"x ${per_uncached:.5f} per uncached answer"),
        _point("Pinecone (shared vector index)", prices.pinecone_month_usd,
               (semantic or SEMANTIC_SHARE) * llm_call_usd,
               f"{'observed' if semantic else 'assumed'} semantic share {(semantic or SEMANTIC_SHARE):.0%} "
               f"x ${llm_call_usd:.5f} per LLM call avoided"),
    )
    total = llm + warehouse
    assumptions = (f"the mix of the {n:,} logged questions: cache hit rate {totals.cache_hit_rate:.0%}, "
                   f"{totals.llm_calls / n:.3f} LLM calls and {totals.warehouse_queries / n:.3f} warehouse reads per "
                   "question", *prices.assumptions())
    return Projection(qpd, month, llm, on_demand, reservation, warehouse, plan, total, total / month,
                      llm / month, points, assumptions)


def _point(what: str, month_usd: float, saves_per_question: float, basis: str) -> TippingPoint:
    qpd = month_usd / (saves_per_question * DAYS_PER_MONTH) if saves_per_question > 0 else None
    return TippingPoint(what, month_usd, saves_per_question, qpd, basis)
