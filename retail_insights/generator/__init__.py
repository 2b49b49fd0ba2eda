"""Synthetic raw order feed for the `retail_sales` dataset (SPEC 1.1), dirty on purpose (SPEC 1.2).

    generate(rows=1_000_000, seed=42, out=Path("bronze/in"))   # files, chunked, with progress
    iter_events(count=1000, seed=42)                            # the same rows as dicts
"""

from retail_insights.generator.dirty import (
    CRITICAL, FIXABLE, KINDS, MULTIPLE, QUARANTINED, WARNINGS,
)
from retail_insights.generator.feed import GenerateResult, generate, iter_events
from retail_insights.generator.plan import FORMATS, Format
from retail_insights.generator.render import FIELDS

__all__ = [
    "CRITICAL", "FIELDS", "FIXABLE", "FORMATS", "KINDS", "MULTIPLE", "QUARANTINED", "WARNINGS",
    "Format", "GenerateResult", "generate", "iter_events",
]
