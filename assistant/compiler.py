"""Intent -> SQL over the smallest table that answers it, built with sqlglot, values as parameters.

Metrics are written in the semantic model; each one keeps its own row filter (revenue leaves out
Cancelled orders, cancellation_rate counts them) as ``FILTER (WHERE ...)`` on every aggregate, so
several metrics combine in one SELECT. User values (filter values, dates, N) are bound as positional
``?`` parameters; identifiers come from the model, never from the question.

Result shapes, per operation (column names):
- total: the metrics; breakdown / top_n / compare_values: the dimensions, then the metrics;
- trend: ``period`` (a date, or a timestamp for hours; ``day_of_week`` 1=Monday..7 instead), then the
  dimensions and metrics; top_n over a grain has the same leading column;
- share: the dimension, the metric, ``share`` (0..1 of the total over every value of the dimension);
- compare_periods / growth: per metric ``m``, ``m_compare``, ``m_change``, ``m_pct_change`` (``time``
  vs ``compare_time``, pct as a fraction, NULL when the base is 0);
- distribution: ``bucket_start``, ``bucket_end`` (NULL for the open last bucket), the count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import re
from typing import Any

import sqlglot
from sqlglot import exp

from assistant.errors import UnsupportedIntent
from assistant.intent import BUCKETED, DISTINCT_PREFIX, Filter, Intent, TimeWindow
from assistant.sources import Source, choose_source, exclusive_end
from warehouse.spec import SemanticModel, load_dataset

DIALECT = "duckdb"
BUCKET_EDGES: dict[str, tuple[float, ...] | None] = {
    "order_value": (0, 25, 50, 100, 250, 500, 1000, 2500, 5000),
    "discount": (0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8),
    "quantity": None,        # small integers: one bucket per value
    "days_to_ship": None,
}
_TRUNC = {"week": "WEEK", "month": "MONTH", "quarter": "QUARTER", "year": "YEAR", "hour": "HOUR"}


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


def _and(conditions: Sequence[exp.Expression]) -> exp.Expression | None:
    conditions = [c for c in conditions if c is not None]
    return exp.and_(*conditions) if conditions else None


class Compiler:
    """Builds the SQL of an intent; one public method."""

    def compile(self, intent: Intent, *, source: Source | None = None) -> CompiledQuery:
        """SQL for ``intent`` over the smallest table that answers it, or over ``source`` if given
        (benchmarks and tests compare a view's answer with the base table's)."""
        model = load_dataset(intent.dataset).semantic
        for name in intent.metrics:
            if not name.startswith(DISTINCT_PREFIX):
                model.metric(name)            # unknown metric: UsageError naming the allowed ones
        source = source or choose_source(intent, model)
        builder = _Builder(intent, model, source)
        tree, columns = builder.build()
        named = tree.sql(dialect=DIALECT)
        order = [int(m.group(1)) for m in re.finditer(r"\$p(\d+)\b", named)]
        sql = re.sub(r"\$p\d+\b", "?", named)
        return CompiledQuery(sql=sql, params=tuple(builder.params.values[i] for i in order), source=source,
                             columns=tuple(columns))


class _Builder:
    def __init__(self, intent: Intent, model: SemanticModel, source: Source) -> None:
        self.intent, self.model, self.source = intent, model, source
        self.view = source.kind == "view"
        self.params = _Params()
        self.table = exp.table_(source.table, db=intent.dataset)
        # When every metric keeps the same rows (revenue, orders... all leave out Cancelled), the row
        # filter goes to WHERE: fewer rows scanned, and no empty "Cancelled" group in a breakdown.
        names = {self.row_filter_name(m) for m in intent.metrics}
        self.hoisted = names.pop() if len(names) == 1 else None

    def row_filter_name(self, metric: str) -> str | None:
        if metric.startswith(DISTINCT_PREFIX):
            return next((m.filter for m in self.model.metrics.values() if m.filter), None)
        return self.model.metrics[metric].filter if metric in self.model.metrics else None

    # --- columns and conditions ---------------------------------------------------------------------
    def dim_column(self, dimension: str) -> exp.Column:
        if self.view:
            return exp.column(dimension)
        return exp.column(self.model.dimension(dimension).column)

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
        return exp.column(window.column)

    def window_condition(self, window: TimeWindow) -> exp.Expression:
        col = self.time_column(window)
        return exp.and_(exp.GTE(this=col, expression=self.params(window.start)),
                        exp.LT(this=col.copy(), expression=self.params(exclusive_end(window))))

    def where(self, *, skip_dims: Sequence[str] = (), time: bool = True) -> exp.Expression | None:
        conds = [self.filter_condition(f) for f in self.intent.filters
                 if not (f.dimension in skip_dims and not f.negate)]
        if self.hoisted is not None:
            conds.append(sqlglot.parse_one(self.model.filters[self.hoisted], read=DIALECT))
        if time and self.intent.time is not None:
            conds.append(self.window_condition(self.intent.time))
        return _and(conds)

    def metric(self, name: str, extra: exp.Expression | None = None) -> exp.Expression:
        filter_name = self.row_filter_name(name)
        if name.startswith(DISTINCT_PREFIX):
            column = self.dim_column(name[len(DISTINCT_PREFIX):])
            expr: exp.Expression = exp.Count(this=exp.Distinct(expressions=[column]))
        else:
            metric = self.model.metrics[name]
            text = metric.additive if self.view else metric.base
            if text is None:
                raise UnsupportedIntent(f"metric {name!r} has no form over views.",
                                        hint="Fix: compile it over the base table.")
            expr = sqlglot.parse_one(text, read=DIALECT)
        row_filter = self.model.filters[filter_name] if filter_name and filter_name != self.hoisted else None
        cond = _and([sqlglot.parse_one(row_filter, read=DIALECT) if row_filter else None, extra])
        return _with_filter(expr, cond) if cond is not None else expr

    def period(self) -> tuple[exp.Expression, str]:
        grain = self.intent.grain
        assert grain is not None
        if self.view:
            col: exp.Expression = exp.column("period_start")
        elif grain == "hour":
            col = exp.column(self.model.time_dimension.column)
        else:
            col = exp.column(self.intent.time.column if self.intent.time else self.model.time_dimension.date_column)
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
        if op in ("compare_periods", "growth"):
            return self.compare_periods()
        if op == "share":
            return self.share()
        keys: list[tuple[exp.Expression, str]] = []
        if op in ("trend", "top_n") and self.intent.grain is not None:
            keys.append(self.period())
        keys += [(self.dim_column(d), d) for d in self.intent.dimensions]
        metrics = [(self.metric(m), m) for m in self.intent.metrics]
        select = exp.select(*(e.as_(a) for e, a in keys), *(e.as_(a) for e, a in metrics)).from_(self.table)
        where = self.where()
        if where is not None:
            select = select.where(where)
        if keys:
            select = select.group_by(*(e.copy() for e, _ in keys))
        first = exp.column(self.intent.metrics[0])
        if op == "trend":
            select = select.order_by(*(exp.column(a) for _, a in keys))
        elif op == "top_n":
            desc = self.intent.order == "desc"
            select = select.order_by(exp.Ordered(this=first, desc=desc, nulls_first=False),
                                     *(exp.column(a) for _, a in keys))
            select = select.limit(self.params(int(self.intent.top_n or 1)))
        elif op == "compare_values":
            select = select.order_by(*(exp.column(a) for _, a in keys))
        elif keys:
            select = select.order_by(exp.Ordered(this=first, desc=True, nulls_first=False),
                                     *(exp.column(a) for _, a in keys))
        return select, [a for _, a in keys] + list(self.intent.metrics)

    def share(self) -> tuple[exp.Expression, list[str]]:
        dims = list(self.intent.dimensions)
        metric = self.intent.metrics[0]
        inner = exp.select(*(self.dim_column(d).as_(d) for d in dims), self.metric(metric).as_(metric))
        inner = inner.from_(self.table)
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
        outer = outer.order_by(exp.Ordered(this=exp.column("share"), desc=True, nulls_first=False),
                               *(exp.column(d) for d in dims))
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
        inner = exp.select(*items).from_(self.table)
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
        if dims:
            outer = outer.order_by(exp.Ordered(this=exp.column(self.intent.metrics[0]), desc=True, nulls_first=False),
                                   *(exp.column(d) for d in dims))
        return outer, columns

    def distribution(self) -> tuple[exp.Expression, list[str]]:
        bucket = self.intent.dimensions[0]
        if bucket not in BUCKETED:
            raise UnsupportedIntent(f"unknown bucketed measure {bucket!r}.", hint=f"Use one of {', '.join(BUCKETED)}.")
        metric = self.intent.metrics[0]
        metric_filter = self.model.metrics[metric].filter if metric in self.model.metrics else None
        conds = [self.where()]
        if metric_filter and metric_filter != self.hoisted:
            conds.append(sqlglot.parse_one(self.model.filters[metric_filter], read=DIALECT))
        where = _and(conds)
        per_order = bucket == "order_value" and self.model.metrics.get("orders") is not None \
            and "DISTINCT" in self.model.metrics["orders"].base.upper()
        if bucket == "order_value":
            money = "sales" if "sales" in self.model.metrics else "revenue"
            value: exp.Expression = exp.column(money)
        else:
            value = exp.column(bucket)
        source: exp.Expression = self.table
        if per_order:       # superstore: an order is several lines; bucket the order's total
            grouped = exp.select(exp.column("order_id"), exp.Sum(this=value).as_("value")).from_(self.table)
            if where is not None:
                grouped = grouped.where(where)
            source, value, where = exp.alias_(exp.paren(grouped.group_by("order_id")), "o"), exp.column("value"), None
        edges = BUCKET_EDGES[bucket]
        start = _bucket_start(value, edges)
        # Rows are grouped by the bucket's start only; its end is looked up on the few result rows.
        counts = exp.select(start.as_("bucket_start"), exp.Count(this=exp.Star()).as_(metric)).from_(source)
        if where is not None:
            counts = counts.where(where)
        counts = counts.group_by(start.copy())
        select = exp.select(exp.column("bucket_start"), _bucket_end(exp.column("bucket_start"), edges).as_("bucket_end"),
                            exp.column(metric)).from_(exp.alias_(exp.paren(counts), "b"))
        return select.order_by(exp.column("bucket_start")), ["bucket_start", "bucket_end", metric]


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
