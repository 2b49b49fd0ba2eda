"""Intent -> SQL over the smallest table that answers it, built with sqlglot, values as parameters.

Metrics come from ``assistant.measures`` (the semantic model's, distinct counts and per-entity
ratios); each keeps its own row filter (revenue leaves out Cancelled orders, cancellation_rate counts
them) as ``FILTER (WHERE ...)`` on every aggregate, so several metrics combine in one SELECT. User
values (filter values, dates, N, thresholds) are bound as positional ``?`` parameters; identifiers
come from the model, never from the question.

Result shapes, per operation (column names):
- total: the metrics; breakdown / top_n / compare_values: the dimensions, then the metrics;
- trend: ``period`` (a date, or a timestamp for hours; ``day_of_week`` 1=Monday..7 instead), then the
  dimensions and metrics, and with ``change`` per metric ``m_change`` and ``m_pct_change`` against the
  period before; top_n over a grain has the same leading column;
- share: the dimension, the metric, ``share`` (0..1 of the total over every value of the dimension);
- compare_periods / growth: per metric ``m``, ``m_compare``, ``m_change``, ``m_pct_change`` (``time``
  vs ``compare_time``, pct as a fraction, NULL when the base is 0); with ``top_n`` and ``rank_by``,
  the members ranked by that change;
- distribution: ``bucket_start``, ``bucket_end`` (NULL for the open last bucket), the count.
Conditions: ``level="group"`` become HAVING; an entity's ("orders above $250") keep the rows of the
entities whose own aggregate passes, through ``key IN (SELECT key ... GROUP BY key HAVING ...)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import re
from typing import Any

import sqlglot
from sqlglot import exp

from assistant.errors import UnsupportedIntent
from assistant.intent import Condition, Filter, Intent, TimeWindow
from assistant.measures import Measure, measure
from assistant.periods import periods_in
from assistant.sources import Source, choose_source, date_column, exclusive_end, partition_columns
from warehouse.spec import Bucketing, SemanticModel, load_dataset

DIALECT = "duckdb"
_TRUNC = {"week": "WEEK", "month": "MONTH", "quarter": "QUARTER", "year": "YEAR", "hour": "HOUR"}
_OPS = {"<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}


_RANK = "rank_in_answer"   # the window column that keeps ties at the cut of a top N


@dataclass(frozen=True)
class CompiledQuery:
    sql: str                       # DuckDB SQL with positional ? parameters
    params: tuple[Any, ...]
    source: Source
    columns: tuple[str, ...]


class _Params:
    def __init__(self) -> None:
        self.values: list[Any] = []

    def __call__(self, value: Any) -> exp.Placeholder:
        self.values.append(value)
        return exp.Placeholder(this=f"p{len(self.values) - 1}")


def _and(conditions: Sequence[exp.Expression | None]) -> exp.Expression | None:
    kept = [c for c in conditions if c is not None]
    return exp.and_(*kept) if kept else None


def _parse(text: str) -> exp.Expression:
    return sqlglot.parse_one(text, read=DIALECT)


class Compiler:
    """Builds the SQL of an intent; one public method."""

    def compile(self, intent: Intent, *, source: Source | None = None) -> CompiledQuery:
        """SQL for ``intent`` over the smallest table that answers it, or over ``source`` if given
        (benchmarks and tests compare a view's answer with the base table's)."""
        ds = load_dataset(intent.dataset)
        model = ds.semantic
        for name in (*intent.metrics, *(c.metric for c in intent.conditions)):
            measure(intent.dataset, name)     # an unknown metric names the allowed ones
        source = source or choose_source(intent, model)
        builder = _Builder(intent, model, source, partition_columns(ds.spec.partitioning, source))
        tree, columns = builder.build()
        named = tree.sql(dialect=DIALECT)
        order = [int(m.group(1)) for m in re.finditer(r"\$p(\d+)\b", named)]
        sql = re.sub(r"\$p\d+\b", "?", named)
        return CompiledQuery(sql=sql, params=tuple(builder.params.values[i] for i in order), source=source,
                             columns=tuple(columns))


class _Builder:
    def __init__(self, intent: Intent, model: SemanticModel, source: Source, partitions: tuple[str, ...]) -> None:
        self.intent, self.model, self.source = intent, model, source
        self.view = source.kind == "view"
        self.partitions = partitions     # named by a window on the default date (partition_columns)
        self.params = _Params()
        self.table = exp.table_(source.table, db=intent.dataset)
        self.measures: dict[str, Measure] = {m: measure(intent.dataset, m) for m in intent.metrics}
        # When every metric keeps the same rows (revenue, orders... all leave out Cancelled), the row
        # filter goes to WHERE: fewer rows scanned, and no empty "Cancelled" group in a breakdown.
        names = {m.filter for m in self.measures.values()}
        self.hoisted = names.pop() if len(names) == 1 else None
        dims = [*intent.dimensions, *(f.dimension for f in intent.filters)]
        self.joins = [] if self.view else _tables_needed(
            model, dims, [*self.measures.values(), *(measure(intent.dataset, c.metric) for c in intent.conditions)])

    def from_(self, select: exp.Select, *, joins: Sequence[str] | None = None) -> exp.Select:
        """``select`` FROM the source, LEFT JOINed to just the dimension tables the intent reads
        (or to ``joins``, for a subquery that reads fewer).

        Every relationship is many-to-one, so a join keeps the fact's rows: totals do not change,
        and a fact row whose key has no match counts under a NULL member.
        """
        select = select.from_(self.table.copy())
        for name in self.joins if joins is None else joins:
            logical, rel = self.model.tables[name], self.model.relationship(name)
            on = exp.EQ(this=exp.column(rel.column), expression=exp.column(logical.key, table=name))
            select = select.join(exp.table_(logical.table, db=self.intent.dataset, alias=name), on=on,
                                 join_type="left")
        return select

    # --- columns and conditions ---------------------------------------------------------------------
    def dim_column(self, dimension: str) -> exp.Column:
        if self.view:
            return exp.column(dimension)
        table, column = self.model.column_of(dimension)
        return exp.column(column, table=table) if table else exp.column(column)

    def filter_condition(self, f: Filter) -> exp.Expression:
        column = self.dim_column(f.dimension)
        if len(f.values) == 1:
            cond: exp.Expression = exp.EQ(this=column, expression=self.params(f.values[0]))
        else:
            cond = column.isin(*(self.params(v) for v in f.values))
        return exp.Not(this=exp.paren(cond)) if f.negate else cond

    def time_column(self, window: TimeWindow) -> exp.Column:
        if self.view:
            return exp.column("period_start")
        return exp.column(date_column(self.model, window))

    def window_condition(self, window: TimeWindow) -> exp.Expression:
        col = self.time_column(window)
        cond = exp.and_(exp.GTE(this=col, expression=self.params(window.start)),
                        exp.LT(this=col.copy(), expression=self.params(exclusive_end(window))))
        if date_column(self.model, window) != self.model.time_dimension.date_column:
            return cond
        # Implied by the dates; named so that only the window's partitions are read.
        bounds = {"year": (window.start.year, window.end.year), "month": (window.start.month, window.end.month)}
        for name in self.partitions:
            if name == "month" and window.start.year != window.end.year:
                break
            low, high = bounds[name]
            cond = exp.and_(cond, exp.Between(this=exp.column(name), low=self.params(low), high=self.params(high)))
        return cond

    def where(self, *, skip_dims: Sequence[str] = (), time: bool = True, entities: bool = True) -> exp.Expression | None:
        conds: list[exp.Expression | None] = [self.filter_condition(f) for f in self.intent.filters
                                              if not (f.dimension in skip_dims and not f.negate)]
        if self.hoisted is not None:
            conds.append(_parse(self.model.filters[self.hoisted]))
        if time and self.intent.time is not None:
            conds.append(self.window_condition(self.intent.time))
        if entities:
            conds += [self.entity_condition(c) for c in self.intent.conditions if c.level != "group"]
        return _and(conds)

    def aggregate(self, m: Measure, extra: exp.Expression | None = None) -> exp.Expression:
        """``m`` over this source with its own row filter (unless hoisted) and ``extra`` as FILTERs."""
        row_filter = self.model.filters[m.filter] if m.filter and m.filter != self.hoisted else None
        cond = _and([_parse(row_filter) if row_filter else None, extra])
        tree = m.tree(view=self.view, exact=self.source.exact)
        return _with_filter(tree, cond) if cond is not None else tree

    def metric(self, name: str, extra: exp.Expression | None = None) -> exp.Expression:
        return self.aggregate(self.measures[name], extra)

    def per_period(self, value: exp.Expression) -> exp.Expression:
        """"average daily sales": the total over the window divided by its number of days (or weeks...)."""
        grain = self.intent.average_over
        if grain is None:
            return value
        count = periods_in(self.intent.time, grain) if self.intent.time is not None else None
        if count is None:
            raise UnsupportedIntent(f"an average per {grain} needs a window of whole {grain}s.",
                                    hint="Fix: name the period, e.g. 'average daily sales in March 2024'.")
        return exp.Div(this=exp.cast(exp.paren(value), "DOUBLE"), expression=self.params(count))

    def comparison(self, c: Condition, value: exp.Expression) -> exp.Expression:
        return _OPS[c.op](this=value, expression=self.params(c.value))

    def having(self) -> exp.Expression | None:
        return _and([self.comparison(c, self.aggregate(measure(self.intent.dataset, c.metric)))
                     for c in self.intent.conditions if c.level == "group"])

    def entity_condition(self, c: Condition) -> exp.Expression:
        """Rows of the entities (orders, customers...) whose own ``c.metric`` passes ``c``."""
        entity = self.model.language.entities[c.level]
        m = measure(self.intent.dataset, c.metric)
        own = _with_filter(m.tree(view=False), _parse(self.model.filters[m.filter])) if m.filter else m.tree(view=False)
        # The entities' own totals: only the filters' and the metric's tables, never the split's.
        joins = [] if self.view else _tables_needed(self.model, [f.dimension for f in self.intent.filters], [m])
        inner = self.from_(exp.select(exp.column(entity.key)), joins=joins)
        where = self.where(entities=False)
        if where is not None:
            inner = inner.where(where)
        inner = inner.group_by(exp.column(entity.key)).having(self.comparison(c, own))
        return exp.column(entity.key).isin(query=inner)

    def period_column(self) -> exp.Column:
        """The column a time grain groups: the view's period start, the timestamp for hours, else the date."""
        if self.view:
            return exp.column("period_start")
        if self.intent.grain == "hour":
            return exp.column(self.model.time_dimension.column)
        return exp.column(date_column(self.model, self.intent.time) if self.intent.time
                          else self.model.time_dimension.date_column)

    def period(self) -> tuple[exp.Expression, str]:
        grain = self.intent.grain
        assert grain is not None
        col = self.period_column()
        if grain == "day_of_week":
            return exp.DayOfWeekIso(this=col), "day_of_week"
        if grain == "day":
            return exp.cast(col, "DATE"), "period"
        truncated = exp.DateTrunc(this=col, unit=exp.Literal.string(_TRUNC[grain]))
        return (truncated if grain == "hour" else exp.cast(truncated, "DATE")), "period"

    # --- operations ---------------------------------------------------------------------------------
    def build(self) -> tuple[exp.Expression, list[str]]:
        op = self.intent.operation
        if op == "distribution":
            return self.distribution()
        if op in ("compare_periods", "growth") or (op == "top_n" and self.intent.compare_time is not None):
            return self.compare_periods()
        if op == "share":
            return self.share()
        keys: list[tuple[exp.Expression, str]] = []
        if op in ("trend", "top_n") and self.intent.grain is not None:
            keys.append(self.period())
        keys += [(self.dim_column(d), d) for d in self.intent.dimensions]
        metrics = [(self.per_period(self.metric(m)), m) for m in self.intent.metrics]
        select = self.from_(exp.select(*(e.as_(a) for e, a in keys), *(e.as_(a) for e, a in metrics)))
        where = self.where()
        if op in ("trend", "top_n") and self.intent.grain is not None and self.intent.time is None:
            # rows without a date count in all-time totals and in no period (SPEC 2)
            where = _and([where, exp.Not(this=exp.Is(this=self.period_column(), expression=exp.Null()))])
        if where is not None:
            select = select.where(where)
        if keys:
            select = select.group_by(*(e.copy() for e, _ in keys))
        having = self.having()
        if having is not None:
            select = select.having(having)
        columns = [a for _, a in keys] + list(self.intent.metrics)
        first = exp.column(self.intent.metrics[0])
        desc = self.intent.order == "desc"
        if op == "trend":
            select = select.order_by(*(exp.column(a) for _, a in keys))
            if self.intent.change:
                return self.with_changes(select, [a for _, a in keys])
        elif op == "top_n":
            return self.with_ties(select, keys, metrics[0][0], desc), columns
        elif op == "compare_values":
            select = select.order_by(*(exp.column(a) for _, a in keys))
        elif keys:
            select = select.order_by(exp.Ordered(this=first, desc=desc, nulls_first=False),
                                     *(exp.column(a) for _, a in keys))
        return select, columns

    def with_ties(self, select: exp.Select, keys: list[tuple[exp.Expression, str]], value: exp.Expression,
                  desc: bool) -> exp.Expression:
        """The top N rows and any tied with the Nth ("who ordered most" with two at 5 orders: both)."""
        rank = exp.Window(this=exp.Anonymous(this="RANK"),
                          order=exp.Order(expressions=[exp.Ordered(this=value.copy(), desc=desc, nulls_first=False)]))
        inner = select.select(rank.as_(_RANK))
        names = [a for _, a in keys] + list(self.intent.metrics)
        first = exp.column(self.intent.metrics[0])
        return (exp.select(*(exp.column(n) for n in names)).from_(exp.alias_(exp.paren(inner), "ranked"))
                .where(exp.LTE(this=exp.column(_RANK), expression=self.params(int(self.intent.top_n or 1))))
                .order_by(exp.Ordered(this=first, desc=desc, nulls_first=False), *(exp.column(a) for _, a in keys)))

    def with_changes(self, series: exp.Select, keys: list[str]) -> tuple[exp.Expression, list[str]]:
        """Each period's value with its change against the period before (per member of the dimensions)."""
        period, dims = keys[0], keys[1:]
        out: list[exp.Expression] = [exp.column(k) for k in keys]
        columns = list(keys)
        for m in self.intent.metrics:
            before = exp.Window(this=exp.Anonymous(this="LAG", expressions=[exp.column(m)]),
                                partition_by=[exp.column(d) for d in dims] or None,
                                order=exp.Order(expressions=[exp.Ordered(this=exp.column(period))]))
            change = exp.Sub(this=exp.column(m), expression=before)
            pct = exp.Div(this=exp.paren(change.copy()), expression=exp.Nullif(this=before.copy(),
                                                                                expression=exp.Literal.number(0)))
            out += [exp.column(m), change.as_(f"{m}_change"), pct.as_(f"{m}_pct_change")]
            columns += [m, f"{m}_change", f"{m}_pct_change"]
        outer = exp.select(*out).from_(exp.alias_(exp.paren(series), "t"))
        return outer.order_by(*(exp.column(k) for k in [*dims, period])), columns

    def share(self) -> tuple[exp.Expression, list[str]]:
        dims = list(self.intent.dimensions)
        metric = self.intent.metrics[0]
        inner = self.from_(exp.select(*(self.dim_column(d).as_(d) for d in dims), self.metric(metric).as_(metric)))
        where = self.where(skip_dims=dims)
        if where is not None:
            inner = inner.where(where)
        inner = inner.group_by(*(self.dim_column(d) for d in dims))
        # Over the rows in a fixed order: a float total summed in whatever order the threads
        # deliver differs in the last bit from run to run, and a cached answer must equal a fresh one.
        total = exp.Window(this=exp.Sum(this=exp.column(metric)))
        if dims:
            total.set("order", exp.Order(expressions=[exp.Ordered(this=exp.column(d)) for d in dims]))
            total.set("spec", exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING",
                                             end="UNBOUNDED", end_side="FOLLOWING"))
        share = exp.Div(this=exp.column(metric), expression=exp.Nullif(this=total, expression=exp.Literal.number(0)))
        # The window runs after WHERE, so the focus values are picked one level further out.
        shares = exp.select(*(exp.column(d) for d in dims), exp.column(metric), share.as_("share"))
        shares = shares.from_(exp.alias_(exp.paren(inner), "t"))
        outer = exp.select(*(exp.column(d) for d in dims), exp.column(metric), exp.column("share"))
        outer = outer.from_(exp.alias_(exp.paren(shares), "s"))
        focus = [f for f in self.intent.filters if f.dimension in dims and not f.negate]
        if focus:
            outer = outer.where(_and([exp.column(f.dimension).isin(*(self.params(v) for v in f.values))
                                      for f in focus]))
        low = self.intent.top_n is not None and self.intent.order == "asc"
        outer = outer.order_by(exp.Ordered(this=exp.column("share"), desc=not low, nulls_first=False),
                               *(exp.column(d) for d in dims))
        if self.intent.top_n:               # "only the top 3 of those" after a share: the shares of the top 3
            outer = outer.limit(self.intent.top_n)
        return outer, dims + [metric, "share"]

    def compare_periods(self) -> tuple[exp.Expression, list[str]]:
        current, other = self.intent.time, self.intent.compare_time
        if current is None or other is None:
            raise UnsupportedIntent(f"{self.intent.operation} needs two periods.",
                                    hint="Fix: give both time and compare_time.")
        dims = list(self.intent.dimensions)
        items: list[exp.Expression] = [self.dim_column(d).as_(d) for d in dims]
        for m in self.intent.metrics:
            items.append(self.metric(m, self.window_condition(current)).as_(m))
            items.append(self.metric(m, self.window_condition(other)).as_(f"{m}_compare"))
        inner = self.from_(exp.select(*items))
        both = exp.or_(exp.paren(self.window_condition(current)), exp.paren(self.window_condition(other)))
        inner = inner.where(_and([self.where(time=False), exp.paren(both)]))
        if dims:
            inner = inner.group_by(*(self.dim_column(d) for d in dims))
        out: list[exp.Expression] = [exp.column(d) for d in dims]
        columns = list(dims)
        for m in self.intent.metrics:
            change = exp.Sub(this=exp.column(m), expression=exp.column(f"{m}_compare"))
            pct = exp.Div(this=exp.paren(change.copy()),
                          expression=exp.Nullif(this=exp.column(f"{m}_compare"), expression=exp.Literal.number(0)))
            out += [exp.column(m), exp.column(f"{m}_compare"), change.as_(f"{m}_change"), pct.as_(f"{m}_pct_change")]
            columns += [m, f"{m}_compare", f"{m}_change", f"{m}_pct_change"]
        outer = exp.select(*out).from_(exp.alias_(exp.paren(inner), "t"))
        if not dims:
            return outer, columns
        first = self.intent.metrics[0]
        by = {"value": first, "change": f"{first}_change", "pct_change": f"{first}_pct_change"}[self.intent.rank_by]
        desc = self.intent.order == "desc"
        outer = outer.order_by(exp.Ordered(this=exp.column(by), desc=desc, nulls_first=False),
                               *(exp.column(d) for d in dims))
        if self.intent.operation == "top_n":
            outer = outer.limit(self.params(int(self.intent.top_n or 1)))
        return outer, columns

    def distribution(self) -> tuple[exp.Expression, list[str]]:
        name = self.intent.dimensions[0]
        buckets = self.model.language.buckets
        if name not in buckets:
            raise UnsupportedIntent(f"unknown bucketed measure {name!r}.", hint=f"Use one of {', '.join(buckets)}.")
        bucketing = buckets[name]
        count = self.intent.metrics[0]
        where = self.where()
        source: exp.Expression | None = None     # None: the table with its joins
        row_column = _row_column(self.model, bucketing)
        if row_column is not None:
            value: exp.Expression = exp.column(row_column)
            row_filter = measure(self.intent.dataset, bucketing.metric or count).filter
            if row_filter and row_filter != self.hoisted:
                where = _and([where, _parse(self.model.filters[row_filter])])
        elif bucketing.metric is not None:
            # Bucket each entity's own total (an order's value is the sum of its lines).
            entity = self.model.language.entities[bucketing.entity or self.model.language.row_entity]
            total = self.aggregate(measure(self.intent.dataset, bucketing.metric))
            grouped = self.from_(exp.select(exp.column(entity.key), total.as_("value")))
            if where is not None:
                grouped = grouped.where(where)
            source = exp.alias_(exp.paren(grouped.group_by(exp.column(entity.key))), "o")
            value = exp.column("value")
            where = None
        edges = self.intent.buckets if self.intent.buckets is not None else bucketing.edges
        start = _bucket_start(value, edges)
        # Rows are grouped by the bucket's start only; its end is looked up on the few result rows.
        counts = exp.select(start.as_("bucket_start"), exp.Count(this=exp.Star()).as_(count))
        counts = self.from_(counts) if source is None else counts.from_(source)
        if where is not None:
            counts = counts.where(where)
        counts = counts.group_by(start.copy())
        select = exp.select(exp.column("bucket_start"), _bucket_end(exp.column("bucket_start"), edges).as_("bucket_end"),
                            exp.column(count)).from_(exp.alias_(exp.paren(counts), "b"))
        return select.order_by(exp.column("bucket_start")), ["bucket_start", "bucket_end", count]


def _tables_needed(model: SemanticModel, dimensions: Sequence[str], measures: Sequence[Measure]) -> list[str]:
    """The logical tables holding ``dimensions`` and the columns ``measures`` read ("how many
    brands"), in first-use order."""
    tables = [model.column_of(d)[0] for d in dimensions if d in model.dimensions]
    for m in measures:
        tables += [c.table for c in _parse(m.base).find_all(exp.Column) if c.table in model.tables]
    return list(dict.fromkeys(t for t in tables if t))


def _row_column(model: SemanticModel, bucketing: Bucketing) -> str | None:
    """The base column to bucket row by row: the bucketing's column, or the column a metric sums
    when one row is one entity (retail_sales: an order's value is its row's revenue)."""
    if bucketing.column is not None:
        return bucketing.column
    entity = model.language.entities[bucketing.entity or model.language.row_entity]
    tree = _parse(model.metrics[bucketing.metric].base) if bucketing.metric else None
    if entity.per_row and isinstance(tree, exp.Sum) and isinstance(tree.this, exp.Column):
        return tree.this.name
    return None


def _bucket_start(value: exp.Expression, edges: tuple[float, ...] | None) -> exp.Expression:
    if edges is None:
        return value.copy()
    starts = exp.Case()
    for low, high in zip(edges, edges[1:]):
        starts = starts.when(exp.LT(this=value.copy(), expression=exp.Literal.number(high)), exp.Literal.number(low))
    return starts.else_(exp.Literal.number(edges[-1]))


def _bucket_end(start: exp.Expression, edges: tuple[float, ...] | None) -> exp.Expression:
    if edges is None:
        return start.copy()
    ends = exp.Case()
    for low, high in zip(edges, edges[1:]):
        ends = ends.when(exp.EQ(this=start.copy(), expression=exp.Literal.number(low)), exp.Literal.number(high))
    return ends.else_(exp.null())


def _with_filter(expr: exp.Expression, cond: exp.Expression) -> exp.Expression:
    """Add ``cond`` to every aggregate of ``expr``: into an existing FILTER, or as a new one."""
    expr = expr.copy()
    for agg in list(expr.find_all(exp.AggFunc)):
        parent = agg.parent
        if isinstance(parent, exp.Filter):
            where = parent.expression
            where.set("this", exp.and_(exp.paren(where.this.copy()), exp.paren(cond.copy())))
        else:
            wrapped = exp.Filter(this=agg.copy(), expression=exp.Where(this=cond.copy()))
            if agg is expr:
                return wrapped
            agg.replace(wrapped)
    return expr
