"""Test support: the PromQL of the alert rules and dashboards, the metric names it reads, and promtool."""

from __future__ import annotations

from collections.abc import Iterator
import json
from pathlib import Path
import re
import subprocess
from typing import Any

import yaml

from retail_insights.services import PROJECT_ROOT

MONITORING = PROJECT_ROOT / "monitoring"
RULES = MONITORING / "prometheus" / "alerts.yml"
RULE_TESTS = MONITORING / "prometheus" / "alerts_test.yml"
DASHBOARDS = sorted((MONITORING / "grafana" / "dashboards").glob("*.json"))
# Grafana's variables, replaced by what they stand for when the query runs.
GRAFANA_VARIABLES = {"$dataset": ".*", "$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}
_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool",
             "offset", "inf", "nan"}


def rules() -> list[dict[str, Any]]:
    return [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, rows' panels included."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def dashboard_queries(path: Path) -> list[tuple[str, str]]:
    """(where, PromQL) of every panel target and query variable, Grafana's variables filled in."""
    dashboard = json.loads(path.read_text())
    found = [(f"{path.name}: {p['title']} [{t['refId']}]", t["expr"]) for p in panels(dashboard)
             for t in p.get("targets", [])]
    for variable in dashboard.get("templating", {}).get("list", []):
        query = variable.get("query")
        text = query.get("query") if isinstance(query, dict) else query
        if variable.get("type") == "query" and text:
            found.append((f"{path.name}: variable {variable['name']}", _label_values_to_promql(text)))
    return [(where, _filled(expr)) for where, expr in found]


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (not functions, keywords, labels or durations)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)                   # string literals
    text = re.sub(r"\{[^}]*\}", "", text)                             # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)                            # ranges
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    names = set()
    for match in re.finditer(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)\b(\s*\()?", text):
        name, call = match.group(1), match.group(2)
        if not call and name.lower() not in _KEYWORDS:
            names.add(name)
    return names


def promtool(promtool_path: str, *args: str, cwd: Path | None = None, stdin: str | None = None
             ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool_path, *args], cwd=cwd, input=stdin, capture_output=True, text=True,
                          timeout=300, check=False)


def as_recording_rules(queries: list[tuple[str, str]]) -> str:
    """The queries as recording rules, so `promtool check rules` parses each one with Prometheus' parser."""
    rules = [{"record": f"check:query_{i}", "expr": expr} for i, (_, expr) in enumerate(queries)]
    return yaml.safe_dump({"groups": [{"name": "dashboard-queries", "rules": rules}]}, sort_keys=False)


def _filled(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return expr


def _label_values_to_promql(text: str) -> str:
    """``label_values(metric, label)`` (Grafana's variable query) -> the metric it reads."""
    match = re.fullmatch(r"\s*label_values\(\s*([^,]+?)\s*,\s*\w+\s*\)\s*", text)
    return match.group(1) if match else text
