"""What things cost, for ``retail-insights report cost``: list prices as assumptions, and LLM prices from
litellm's price map.

Every number here is printed with the report that uses it (``Prices.assumptions``), so a reader can see
what a figure rests on and change it. Prices are list prices in USD as published by each vendor; your
contract may differ.
"""

from __future__ import annotations

from dataclasses import dataclass
import difflib

from retail_insights.errors import UsageError

TIB = 1024**4
MIB = 1024**2
HOURS_PER_MONTH = 730.0
DAYS_PER_MONTH = 365.0 / 12


@dataclass(frozen=True)
class Prices:
    bigquery_usd_per_tib: float = 6.25               # on-demand queries, per TiB billed
    bigquery_min_bytes: int = 10 * MIB               # billed at least per query that reads a table
    bigquery_slot_hour_usd: float = 0.04             # Standard edition, pay as you go
    bigquery_slots: int = 50                         # the smallest reservation (slots come in 50s)
    redis_month_usd: float = 36.0                    # a managed 1 GB Redis (Memorystore Basic, ~$0.049/GB-hour)
    pinecone_month_usd: float = 50.0                 # Pinecone Standard plan's monthly minimum
    llm_prompt_tokens: int = 1_500                   # per LLM call, when the log has no calls to average
    llm_completion_tokens: int = 200

    def billed_bytes(self, bytes_read: int) -> int:
        """What BigQuery bills for one query that read ``bytes_read`` bytes (nothing read, nothing billed)."""
        return max(bytes_read, self.bigquery_min_bytes) if bytes_read > 0 else 0

    def bigquery_usd(self, billed_bytes: float) -> float:
        return billed_bytes / TIB * self.bigquery_usd_per_tib

    @property
    def reservation_month_usd(self) -> float:
        return self.bigquery_slots * self.bigquery_slot_hour_usd * HOURS_PER_MONTH

    def assumptions(self) -> list[str]:
        return [
            f"BigQuery on demand: ${self.bigquery_usd_per_tib:.2f} per TiB, at least "
            f"{self.bigquery_min_bytes // MIB} MiB billed per query that reads a table",
            f"BigQuery reservation: {self.bigquery_slots} slots x ${self.bigquery_slot_hour_usd:.2f} per slot-hour x "
            f"{HOURS_PER_MONTH:.0f} h = ${self.reservation_month_usd:,.0f} per month (Standard edition)",
            f"Redis (shared L2 cache): ${self.redis_month_usd:.0f} per month (managed, 1 GB)",
            f"Pinecone (shared vector index): ${self.pinecone_month_usd:.0f} per month (Standard plan minimum)",
            f"a month is {DAYS_PER_MONTH:.1f} days",
        ]


def llm_call_usd(model: str, *, prompt_tokens: int, completion_tokens: int) -> float:
    """One call's price from litellm's price map; an unpriced model is a usage error naming close ones."""
    import litellm

    if model not in litellm.model_cost:
        known = [name for name, info in litellm.model_cost.items() if info.get("input_cost_per_token")]
        close = difflib.get_close_matches(model, known, n=3, cutoff=0.6)
        maybe = f"Did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
        raise UsageError(f"the LLM model {model!r} has no price in litellm's price map.",
                         hint=f"{maybe}Fix: pass --llm-model with a priced model name, e.g. gpt-4o-mini.")
    prompt, completion = litellm.cost_per_token(model=model, prompt_tokens=prompt_tokens,
                                                completion_tokens=completion_tokens)
    return float(prompt + completion)
