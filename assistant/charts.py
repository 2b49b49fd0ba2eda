"""Chart specs by rules from the result's shape (Vega-Lite v5 dicts, data inline).

time series -> line; category x measure -> bar; share -> arc (8 slices or fewer) else bar;
two periods -> grouped bar; distribution -> bar over buckets; a single number -> None.
"""

from __future__ import annotations

from typing import Any

from assistant.answer import jsonable
from assistant.intent import Intent
from assistant.sentence import bucket_label, metric_label

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
MAX_POINTS = 500
MAX_ARCS = 8


def _spec(mark: str | dict[str, Any], values: list[dict[str, Any]], encoding: dict[str, Any],
          title: str) -> dict[str, Any]:
    return {"$schema": SCHEMA, "title": title, "data": {"values": values[:MAX_POINTS]}, "mark": mark,
            "encoding": encoding}


def chart_for(intent: Intent, columns: tuple[str, ...], rows: tuple[tuple[Any, ...], ...]) -> dict[str, Any] | None:
    """A Vega-Lite spec for the result, or None when a chart would add nothing (one number, no rows)."""
    if not rows or intent.operation == "total":
        return None
    records = [{c: jsonable(v) for c, v in zip(columns, r)} for r in rows]
    m = intent.metrics[0]
    y_title = metric_label(intent.dataset, m)
    op = intent.operation
    if op == "trend" or (op == "top_n" and intent.grain is not None):
        x = columns[0]
        if x == "day_of_week":
            x_enc = {"field": x, "type": "ordinal", "title": "day of week (1 = Monday)"}
        else:
            x_enc = {"field": x, "type": "temporal", "title": intent.grain or "period"}
        enc: dict[str, Any] = {"x": x_enc, "y": {"field": m, "type": "quantitative", "title": y_title}}
        if intent.dimensions:
            enc["color"] = {"field": intent.dimensions[0], "type": "nominal"}
        mark = "line" if op == "trend" else "bar"
        return _spec({"type": mark, "point": True} if mark == "line" else mark, records, enc,
                     f"{y_title} by {intent.grain}")
    if op in ("compare_periods", "growth") or (op == "top_n" and intent.compare_time is not None):
        assert intent.time is not None and intent.compare_time is not None
        long = []
        for rec in records:
            key = {d: rec[d] for d in intent.dimensions}
            long.append({**key, "period": intent.time.label or intent.time.describe(), m: rec[m]})
            long.append({**key, "period": intent.compare_time.label or intent.compare_time.describe(),
                         m: rec[f"{m}_compare"]})
        enc = {"x": {"field": intent.dimensions[0] if intent.dimensions else "period", "type": "nominal"},
               "y": {"field": m, "type": "quantitative", "title": y_title},
               "color": {"field": "period", "type": "nominal"}}
        if intent.dimensions:
            enc["xOffset"] = {"field": "period"}
        return _spec("bar", long, enc, f"{y_title}: {intent.time.label} vs {intent.compare_time.label}")
    if op == "distribution":
        for rec in records:
            rec["bucket"] = bucket_label(intent.dataset, rec["bucket_start"], rec["bucket_end"], intent.dimensions[0])
        enc = {"x": {"field": "bucket", "type": "ordinal", "sort": None, "title": intent.dimensions[0].replace("_", " ")},
               "y": {"field": m, "type": "quantitative", "title": y_title}}
        return _spec("bar", records, enc, f"{y_title} by {intent.dimensions[0].replace('_', ' ')}")
    dims = list(intent.dimensions)
    if not dims:
        return None
    if op == "share" and len(records) <= MAX_ARCS:
        enc = {"theta": {"field": m, "type": "quantitative"}, "color": {"field": dims[0], "type": "nominal"},
               "tooltip": [{"field": dims[0]}, {"field": "share", "format": ".1%"}]}
        return _spec("arc", records, enc, f"Share of {y_title} by {dims[0]}")
    enc = {"y": {"field": dims[0], "type": "nominal", "sort": "-x"},
           "x": {"field": m, "type": "quantitative", "title": y_title}}
    if len(dims) > 1:
        enc["color"] = {"field": dims[1], "type": "nominal"}
    return _spec("bar", records, enc, f"{y_title} by {' and '.join(dims)}")
