"""Writes ``superstore.yaml``: each question's expected answer computed with plain pandas over the CSV.

Independent of the assistant on purpose (no SQL, no compiler): SPEC 4 semantics written out in
pandas. Run ``python -m assistant.golden.build_superstore [CSV]`` after changing a question.
Expected rows follow the answer shapes in ``assistant/compiler.py`` (dimensions, then values).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
import sys
from typing import Any

import numpy as np
import pandas as pd
import yaml

from retail_insights.settings import get_settings

CSV_NAME = "superstore_2014_2017.csv"  # in the superstore_dir setting (../shared/data/superstore)
OUT = Path(__file__).with_name("superstore.yaml")
AS_OF = "2018-01-01"


def load(csv: Path) -> pd.DataFrame:
    df = pd.read_csv(csv, encoding="utf-8-sig")
    df["order_date"] = pd.to_datetime(df["Order Date"]).dt.date
    df["ship_date"] = pd.to_datetime(df["Ship Date"]).dt.date
    df["days_to_ship"] = (pd.to_datetime(df["Ship Date"]) - pd.to_datetime(df["Order Date"])).dt.days
    return df


def between(df: pd.DataFrame, start: str, end: str, column: str = "order_date") -> pd.DataFrame:
    return df[(df[column] >= date.fromisoformat(start)) & (df[column] <= date.fromisoformat(end))]


def year(df: pd.DataFrame, y: int) -> pd.DataFrame:
    return between(df, f"{y}-01-01", f"{y}-12-31")


# SPEC 4 metrics over a frame of order lines.
METRICS: dict[str, Callable[[pd.DataFrame], float]] = {
    "sales": lambda d: float(d["Sales"].sum()),
    "profit": lambda d: float(d["Profit"].sum()),
    "quantity": lambda d: int(d["Quantity"].sum()),
    "order_lines": lambda d: len(d),
    "orders": lambda d: int(d["Order ID"].nunique()),
    "customers": lambda d: int(d["Customer ID"].nunique()),
    "margin": lambda d: float(d["Profit"].sum() / d["Sales"].sum()),
    "aov": lambda d: float(d["Sales"].sum() / d["Order ID"].nunique()),
    "avg_discount": lambda d: float(d["Discount"].mean()),
    "days_to_ship": lambda d: float(d["days_to_ship"].mean()),
    "products": lambda d: int(d["Product Name"].nunique()),
    "cities": lambda d: int(d["City"].nunique()),
}


def total(d: pd.DataFrame, *metrics: str) -> list[list[Any]]:
    return [[METRICS[m](d) for m in metrics]]


def by(d: pd.DataFrame, columns: list[str], metric: str) -> list[list[Any]]:
    return [[*(k if isinstance(k, tuple) else (k,)), METRICS[metric](g)] for k, g in d.groupby(columns)]


def top(d: pd.DataFrame, column: str, metric: str, n: int, *, ascending: bool = False) -> list[list[Any]]:
    rows = by(d, [column], metric)
    rows.sort(key=lambda r: (r[1] if ascending else -r[1], r[0]))
    return rows[:n]


def compare(a: pd.DataFrame, b: pd.DataFrame, metric: str) -> list[list[Any]]:
    x, y = METRICS[metric](a), METRICS[metric](b)
    return [[x, y, x - y, (x - y) / y]]


def compare_by(a: pd.DataFrame, b: pd.DataFrame, column: str, metric: str) -> list[list[Any]]:
    keys = sorted(set(a[column]) | set(b[column]))
    out = []
    for k in keys:
        x, y = METRICS[metric](a[a[column] == k]), METRICS[metric](b[b[column] == k])
        out.append([k, x, y, x - y, (x - y) / y])
    return out


def periods(d: pd.DataFrame, grain: str) -> pd.Series:
    ts = pd.to_datetime(d["order_date"])
    if grain == "month":
        return ts.dt.to_period("M").dt.start_time.dt.date.astype(str)
    if grain == "quarter":
        return ts.dt.to_period("Q").dt.start_time.dt.date.astype(str)
    if grain == "year":
        return ts.dt.to_period("Y").dt.start_time.dt.date.astype(str)
    if grain == "week":
        return (ts - pd.to_timedelta(ts.dt.day_of_week, unit="D")).dt.date.astype(str)
    if grain == "day_of_week":
        return ts.dt.day_of_week + 1
    raise ValueError(grain)


def trend(d: pd.DataFrame, grain: str, metric: str, extra: str | None = None) -> list[list[Any]]:
    d = d.assign(__p=periods(d, grain))
    keys = ["__p"] + ([extra] if extra else [])
    return sorted(by(d, keys, metric), key=lambda r: tuple(str(x) for x in r[:-1]))


def share(d: pd.DataFrame, column: str, metric: str, focus: str | None = None) -> list[list[Any]]:
    rows = by(d, [column], metric)
    whole = sum(r[1] for r in rows)
    out = [[k, v, v / whole] for k, v in rows]
    return [r for r in out if focus is None or r[0] == focus]


ORDER_EDGES = [0, 25, 50, 100, 250, 500, 1000, 2500, 5000]


def buckets(values: pd.Series, edges: list[float]) -> list[list[Any]]:
    starts = np.select([values < hi for hi in edges[1:]], edges[:-1], default=edges[-1])
    ends = np.select([values < hi for hi in edges[1:]], edges[1:], default=np.nan)
    frame = pd.DataFrame({"s": starts, "e": ends})
    out = []
    for (s, e), g in frame.groupby(["s", "e"], dropna=False):
        out.append([float(s), None if pd.isna(e) else float(e), len(g)])
    return sorted(out, key=lambda r: r[0])


def questions(df: pd.DataFrame) -> list[dict[str, Any]]:
    y17, y16 = year(df, 2017), year(df, 2016)
    q = []

    def add(category: str, question: str, rows: Any = None, *, status: str | None = None,
            as_of: str | None = None, ordered: bool | None = None) -> None:
        entry: dict[str, Any] = {"id": f"ss-{len(q) + 1:03d}", "question": question, "category": category,
                                 "expect": {"status": status} if status else {"rows": rows}}
        if as_of:
            entry["as_of"] = as_of
        if ordered is not None:
            entry["ordered"] = ordered
        q.append(entry)

    add("total", "Total sales in 2017", total(y17, "sales"))
    add("total", "profit in 2016", total(y16, "profit"))
    add("total", "How many orders did the Consumer segment place in Q4 2017?",
        total(between(df[df["Segment"] == "Consumer"], "2017-10-01", "2017-12-31"), "orders"))
    add("total", "quantity sold in 2015", total(year(df, 2015), "quantity"))
    add("total", "order lines in March 2017", total(between(df, "2017-03-01", "2017-03-31"), "order_lines"))
    add("total", "sales in Q2 2014", total(between(df, "2014-04-01", "2014-06-30"), "sales"))
    add("total", "number of orders in 2017", total(y17, "orders"))
    add("total", "sales and profit in 2016", total(y16, "sales", "profit"))

    add("breakdown", "Profit by region in 2016", by(y16, ["Region"], "profit"))
    add("breakdown", "sales by ship mode in 2017", by(y17, ["Ship Mode"], "sales"))
    add("breakdown", "sales by category in 2017", by(y17, ["Category"], "sales"))
    add("breakdown", "orders by segment in 2015", by(year(df, 2015), ["Segment"], "orders"))
    add("breakdown", "profit by sub-category in 2017", by(y17, ["Sub-Category"], "profit"))
    add("breakdown", "sales by region and segment in 2016", by(y16, ["Region", "Segment"], "sales"))
    add("breakdown", "sales by state in the West region in 2017", by(y17[y17["Region"] == "West"], ["State"], "sales"))
    add("breakdown", "quantity by category in Q4 2017",
        by(between(df, "2017-10-01", "2017-12-31"), ["Category"], "quantity"))

    add("top_n", "Top 5 sub-categories by sales", top(df, "Sub-Category", "sales", 5))
    add("top_n", "top 3 states by profit in 2017", top(y17, "State", "profit", 3))
    add("top_n", "bottom 5 sub-categories by profit in 2017", top(y17, "Sub-Category", "profit", 5, ascending=True))
    add("top_n", "top 5 customers by sales in 2017", top(y17, "Customer Name", "sales", 5))
    add("top_n", "top 3 products by sales in 2016", top(y16, "Product Name", "sales", 3))
    add("top_n", "which region had the highest sales in 2017", top(y17, "Region", "sales", 1))
    add("top_n", "top 5 cities by sales in 2017", top(y17, "City", "sales", 5))
    months = trend(y17, "month", "sales")
    add("top_n", "best month for sales in 2017", sorted(months, key=lambda r: -r[1])[:1])

    add("compare", "Furniture vs Technology sales in 2017",
        by(y17[y17["Category"].isin(["Furniture", "Technology"])], ["Category"], "sales"))
    add("compare", "compare sales in 2017 vs 2016", compare(y17, y16, "sales"))
    add("compare", "East vs West profit in 2016", by(y16[y16["Region"].isin(["East", "West"])], ["Region"], "profit"))
    add("compare", "Standard Class vs First Class orders in 2017",
        by(y17[y17["Ship Mode"].isin(["Standard Class", "First Class"])], ["Ship Mode"], "orders"))
    add("compare", "compare profit in Q4 2017 with Q4 2016",
        compare(between(df, "2017-10-01", "2017-12-31"), between(df, "2016-10-01", "2016-12-31"), "profit"))

    add("growth", "sales growth YoY in 2017", compare(y17, y16, "sales"))
    add("growth", "profit growth in Q4 2017 vs Q4 2016",
        compare(between(df, "2017-10-01", "2017-12-31"), between(df, "2016-10-01", "2016-12-31"), "profit"))
    add("growth", "MoM sales growth in December 2017",
        compare(between(df, "2017-12-01", "2017-12-31"), between(df, "2017-11-01", "2017-11-30"), "sales"))
    add("growth", "QoQ orders growth in Q4 2017",
        compare(between(df, "2017-10-01", "2017-12-31"), between(df, "2017-07-01", "2017-09-30"), "orders"))
    add("growth", "sales growth by region in 2017 vs 2016", compare_by(y17, y16, "Region", "sales"))

    add("trend", "monthly sales in 2017", months)
    add("trend", "sales by quarter in 2016", trend(y16, "quarter", "sales"))
    add("trend", "yearly profit", trend(df, "year", "profit"))
    add("trend", "weekly orders in Q4 2017", trend(between(df, "2017-10-01", "2017-12-31"), "week", "orders"))
    add("trend", "sales by day of week in 2017", trend(y17, "day_of_week", "sales"))
    add("trend", "monthly sales by category in 2017", trend(y17, "month", "sales", "Category"))

    add("share", "share of sales by category in 2017", share(y17, "Category", "sales"))
    add("share", "what share of sales came from Technology in 2017", share(y17, "Category", "sales", "Technology"))
    add("share", "percentage of profit by region in 2016", share(y16, "Region", "profit"))
    add("share", "share of orders by segment in 2017", share(y17, "Segment", "orders"))
    add("share", "what percent of sales came from California in 2017", share(y17, "State", "sales", "California"))

    add("average", "average order value in 2017", total(y17, "aov"))
    add("average", "average discount by category in 2017", by(y17, ["Category"], "avg_discount"))
    add("average", "Average days to ship by ship mode", by(df, ["Ship Mode"], "days_to_ship"))
    add("average", "profit margin by region in 2017", by(y17, ["Region"], "margin"))
    add("average", "average days to ship in 2017", total(y17, "days_to_ship"))
    add("average", "aov by segment in 2016", by(y16, ["Segment"], "aov"))

    add("distinct", "how many customers in 2017", total(y17, "customers"))
    add("distinct", "how many products were sold in 2017", total(y17, "products"))
    add("distinct", "number of cities in 2016", total(y16, "cities"))
    add("distinct", "unique customers by region in 2017", by(y17, ["Region"], "customers"))

    add("geography", "sales in California in 2017", total(y17[y17["State"] == "California"], "sales"))
    add("geography", "sales in New York City in 2017", total(y17[y17["City"] == "New York City"], "sales"))
    add("geography", "profit in Texas in 2016", total(y16[y16["State"] == "Texas"], "profit"))
    add("geography", "West Coast sales in 2017",
        total(y17[y17["State"].isin(["California", "Oregon", "Washington"])], "sales"))
    add("geography", "sales in the state of Washington in 2017", total(y17[y17["State"] == "Washington"], "sales"))
    add("geography", "sales excluding California in 2017", total(y17[y17["State"] != "California"], "sales"))
    add("geography", "sales in TX in 2017", total(y17[y17["State"] == "Texas"], "sales"))

    add("near_miss", "sales in Furniture in 2017", total(y17[y17["Category"] == "Furniture"], "sales"))
    add("near_miss", "sales in Furniture in 2016", total(y16[y16["Category"] == "Furniture"], "sales"))
    add("near_miss", "profit in Texas in 2017", total(y17[y17["State"] == "Texas"], "profit"))
    add("near_miss", "profit in Ohio in 2017", total(y17[y17["State"] == "Ohio"], "profit"))
    add("near_miss", "Chairs sales in 2017", total(y17[y17["Sub-Category"] == "Chairs"], "sales"))
    add("near_miss", "Tables sales in 2017", total(y17[y17["Sub-Category"] == "Tables"], "sales"))
    add("near_miss", "orders in 2017", total(y17, "orders"))
    add("near_miss", "order lines in 2017", total(y17, "order_lines"))
    add("near_miss", "sales in the East in 2017", total(y17[y17["Region"] == "East"], "sales"))
    east_coast = ["Maine", "New Hampshire", "Massachusetts", "Rhode Island", "Connecticut", "New York", "New Jersey",
                  "Delaware", "Maryland", "Virginia", "North Carolina", "South Carolina", "Georgia", "Florida"]
    add("near_miss", "sales on the East Coast in 2017", total(y17[y17["State"].isin(east_coast)], "sales"))

    add("time_relative", "sales last month", total(between(df, "2017-12-01", "2017-12-31"), "sales"))
    add("time_relative", "sales last quarter", total(between(df, "2017-10-01", "2017-12-31"), "sales"))
    add("time_relative", "sales in March", total(between(df, "2017-03-01", "2017-03-31"), "sales"))
    add("time_relative", "sales in Q2", total(between(df, "2017-04-01", "2017-06-30"), "sales"))
    add("time_relative", "sales in the last 3 months", total(between(df, "2017-10-01", "2017-12-31"), "sales"))
    add("time_relative", "sales YTD", total(between(df, "2017-01-01", "2017-06-15"), "sales"), as_of="2017-06-15")
    add("time_relative", "sales last week", total(between(df, "2017-12-11", "2017-12-17"), "sales"),
        as_of="2017-12-20")
    add("time_relative", "orders by ship date in December 2017",
        total(between(df, "2017-12-01", "2017-12-31", "ship_date"), "orders"))
    add("time_relative", "sales between 2017-03-10 and 2017-04-20",
        total(between(df, "2017-03-10", "2017-04-20"), "sales"))

    per_order = y17.groupby("Order ID")["Sales"].sum()
    add("distribution", "distribution of order values in 2017", buckets(per_order, ORDER_EDGES), ordered=True)
    discount = np.floor(y17["Discount"].to_numpy() * 10 + 1e-9) / 10
    add("distribution", "order lines by discount bucket in 2017",
        buckets(pd.Series(discount), [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]), ordered=True)
    days = df.groupby("days_to_ship").size()
    add("distribution", "distribution of days to ship", [[int(k), int(k), int(v)] for k, v in days.items()],
        ordered=True)

    for text in ("weather in Paris", "sales per employee", "what was the inventory turnover in 2017",
                 "returns by region in 2017", "customer satisfaction in 2017"):
        add("clarify", text, status="clarify")
    return q


def _plain(value: Any) -> Any:
    """numpy scalars -> Python, so the YAML holds plain numbers."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def main(argv: list[str] | None = None) -> None:
    args = argv if argv is not None else sys.argv[1:]
    csv = Path(args[0]) if args else get_settings().superstore_dir / CSV_NAME
    data = _plain({"dataset": "superstore", "as_of": AS_OF, "questions": questions(load(csv))})
    header = ("# Generated by assistant/golden/build_superstore.py from the Superstore CSV with pandas\n"
              "# (independent of the assistant). Do not edit by hand: change the script and re-run it.\n")
    OUT.write_text(header + yaml.safe_dump(data, sort_keys=False, width=120), encoding="utf-8")
    print(f"wrote {len(data['questions'])} questions to {OUT}")


if __name__ == "__main__":
    main()
