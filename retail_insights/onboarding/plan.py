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
ID_SUFFIX = re.compile(r"_(id|sk|key|number|no|num)$")


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
    time_derived: tuple[str, str, str] | None = None   # (name, expr, rule) of a date derived from a day-number key
    time_key: str | None = None                        # the day-number key column it is derived from
    metrics: list[Metric] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    view_dimensions: list[str] = field(default_factory=list)

    @property
    def time_nulls(self) -> int:
        """Rows without a time: kept with a warning (counted in all-time totals, in no period)."""
        source = self.time_key if self.time_derived else self.time_column
        return self.fact.column(source).nulls if source else 0

    @property
    def measures(self) -> list[ColumnProfile]:
        return [c for c in self.fact.columns if c.role == "measure"]


def make_plan(name: str, profiles: Sequence[FileProfile], relationships: Sequence[Relationship], *,
              day_offsets: dict[str, int] | None = None) -> Plan:
    """``day_offsets``: per profiled table whose integer key is a day number, key minus days since 1970-01-01."""
    fact = choose_fact(profiles, relationships)
    mine = [r for r in relationships if r.table == fact.table]
    refs = _one_per_table([r for r in mine if r.confident])
    suggestions = [r for r in mine if not r.confident and r.column not in {x.column for x in refs}]
    dates = [c for c in fact.columns if c.type in ("date", "timestamp")]
    plan = Plan(name=name, fact=fact, dimensions=[p for p in profiles if p is not fact], references=refs,
                suggestions=suggestions, time_column=dates[0].name if dates else None)
    if plan.time_column is None:
        plan.time_derived = _date_from_key(plan, day_offsets or {})
        plan.time_column = plan.time_derived[0] if plan.time_derived else None
        plan.time_key = next((r.column for r in refs if r.target in (day_offsets or {})), None)
    plan.metrics, plan.entities = _metrics(plan)
    plan.view_dimensions = [c.name for c in sorted((c for c in fact.columns if c.role == "dimension" and c.members and c.distinct > 1),
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


def _date_from_key(plan: Plan, day_offsets: dict[str, int]) -> tuple[str, str, str] | None:
    """A fact without dates whose reference points at a calendar keyed by day number gets the date."""
    for ref in plan.references:
        if ref.target in day_offsets:
            offset = day_offsets[ref.target]
            return (entity_name(ref.column), f"CAST('1970-01-01' AS DATE) + CAST({ref.column} - {offset} AS INTEGER)",
                    f"the date of {ref.column}: {ref.target}'s keys are day numbers (1970-01-01 is {offset})")
    return None


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
    targets = {r.column: r.target for r in plan.references}
    composite = len(plan.fact.key) > 1
    by_key_first = sorted(plan.fact.columns, key=lambda c: (c.role != "key", c.name in targets))  # tickets first
    for col in by_key_first:
        if col.name == plan.time_key:
            continue  # the date key: its distinct count is the number of days
        counted = col.name in targets or (col.role == "key" and composite) or (
            col.role == "identifier" and ID_SUFFIX.search(col.name) and col.type == "string")
        if counted and 1 < col.distinct < col.rows:
            entity = targets.get(col.name) or entity_name(col.name)
            entity = entity[:-1] if entity.endswith("s") else entity   # customers (a table) -> customer
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
