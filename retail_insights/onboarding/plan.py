"""What a draft dataset will say, decided from the profiles: fact, key, time, measures, dimensions.

Every decision here is a guess a person confirms; ``Plan.notes`` carries, per decision, what to
review. The YAML text is written by ``retail_insights.onboarding.draft``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
import re

from retail_insights.onboarding.profile import ColumnProfile, FileProfile
from retail_insights.onboarding.relationships import Relationship

MAX_VIEW_DIMENSIONS = 6
ID_SUFFIX = re.compile(r"_(id|sk|key|number)$")


@dataclass(frozen=True)
class Metric:
    name: str
    base: str
    additive: str | None
    format: str
    note: str = ""
    measure: tuple[str, str] | None = None   # (view measure name, its aggregate)


@dataclass(frozen=True)
class Entity:
    name: str
    key: str
    count: str
    per_row: bool = False


@dataclass
class Plan:
    name: str
    fact: FileProfile
    dimensions: list[FileProfile]
    references: list[Relationship]          # fact column -> dimension table, confident
    suggestions: list[Relationship]         # by values only: written commented out
    time_column: str | None
    metrics: list[Metric] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    view_dimensions: list[str] = field(default_factory=list)

    @property
    def measures(self) -> list[ColumnProfile]:
        return [c for c in self.fact.columns if c.role == "measure"]


def make_plan(name: str, profiles: Sequence[FileProfile], relationships: Sequence[Relationship]) -> Plan:
    fact = choose_fact(profiles, relationships)
    mine = [r for r in relationships if r.table == fact.table]
    refs = _one_per_table([r for r in mine if r.confident])
    suggestions = [r for r in mine if not r.confident and r.column not in {x.column for x in refs}]
    dates = [c for c in fact.columns if c.type in ("date", "timestamp")]
    plan = Plan(name=name, fact=fact, dimensions=[p for p in profiles if p is not fact], references=refs,
                suggestions=suggestions, time_column=dates[0].name if dates else None)
    plan.metrics, plan.entities = _metrics(plan)
    plan.view_dimensions = [c.name for c in sorted((c for c in fact.columns if c.role == "dimension" and c.members),
                                                   key=lambda c: c.distinct)][:MAX_VIEW_DIMENSIONS]
    return plan


def choose_fact(profiles: Sequence[FileProfile], relationships: Sequence[Relationship]) -> FileProfile:
    """The file that refers to the most others by name (ties: the most rows)."""
    def score(p: FileProfile) -> tuple[int, int]:
        return len({r.target for r in relationships if r.table == p.table and r.confident}), p.rows

    return max(profiles, key=score)


def _one_per_table(refs: list[Relationship]) -> list[Relationship]:
    seen: dict[str, Relationship] = {}
    for ref in refs:
        seen.setdefault(ref.target, ref)
    return list(seen.values())


def entity_name(column: str) -> str:
    """``order_id`` -> ``order``; ``ss_customer_sk`` -> ``ss_customer``."""
    return ID_SUFFIX.sub("", column) or column


def _metrics(plan: Plan) -> tuple[list[Metric], list[Entity]]:
    metrics: list[Metric] = []
    for col in plan.measures:
        rate = col.type.startswith("decimal") and _between_0_and_1(col)
        if rate:
            metrics.append(Metric(f"avg_{col.name}", f"AVG({col.name})", f"SUM({col.name}_sum) / NULLIF(SUM(rows), 0)",
                                  "percent", "values between 0 and 1: a rate, averaged per row",
                                  (f"{col.name}_sum", f"SUM({col.name})")))
        else:
            money = col.type.startswith("decimal")
            metrics.append(Metric(col.name, f"SUM({col.name})", f"SUM({col.name})",
                                  "currency" if money else "integer" if col.type.startswith("int") else "number",
                                  "an amount of money?" if money else "a count of units?",
                                  (col.name, f"SUM({col.name})")))
    metrics.append(Metric("rows", "COUNT(*)", "SUM(rows)", "integer", "one per row of the file", ("rows", "COUNT(*)")))
    entities = [Entity("row", plan.fact.key[0] if plan.fact.key else plan.fact.columns[0].name, "rows", per_row=True)]
    taken = {m.name for m in metrics} | {c.name for c in plan.fact.columns}
    for col in plan.fact.columns:
        if (col.role == "identifier" and ID_SUFFIX.search(col.name) and col.type in ("string", "int64")
                and 1 < col.distinct < col.rows):
            entity = entity_name(col.name)
            count = f"{entity}s"
            if count in taken or entity in {e.name for e in entities}:
                continue
            metrics.append(Metric(count, f"COUNT(DISTINCT {col.name})", None, "integer",
                                  f"distinct {col.name} values"))
            entities.append(Entity(entity, col.name, count))
            taken.add(count)
    return metrics, entities


def _between_0_and_1(col: ColumnProfile) -> bool:
    try:
        return 0 <= float(col.min) and float(col.max) <= 1
    except (TypeError, ValueError):
        return False
