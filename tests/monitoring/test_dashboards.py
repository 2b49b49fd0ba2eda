"""monitoring/grafana: four provisioned dashboards whose every query Prometheus' own parser accepts.

Grafana cannot run here; test_served_metrics.py checks that the metrics these queries read are
exported by a running ``serve``.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.monitoring.promql import DASHBOARDS, MONITORING, as_recording_rules, dashboard_queries, panels, promtool

PROVISIONING = MONITORING / "grafana" / "provisioning"


def test_there_are_service_assistant_data_and_warehouse_dashboards_with_unique_uids() -> None:
    loaded = {path.stem: json.loads(path.read_text()) for path in DASHBOARDS}
    assert set(loaded) == {"service", "assistant", "data", "warehouse"}
    uids = [d["uid"] for d in loaded.values()]
    assert len(set(uids)) == len(uids)
    assert all(d["panels"] and d["title"].startswith("Retail Insights: ") for d in loaded.values())


def test_every_panel_has_an_id_a_place_and_queries_the_provisioned_prometheus() -> None:
    source = yaml.safe_load((PROVISIONING / "datasources" / "prometheus.yml").read_text())["datasources"][0]
    for path in DASHBOARDS:
        found = list(panels(json.loads(path.read_text())))
        assert len({p["id"] for p in found}) == len(found), path.name
        for panel in found:
            assert set(panel["gridPos"]) == {"h", "w", "x", "y"}, (path.name, panel["title"])
            assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24, (path.name, panel["title"])
            assert panel["targets"], (path.name, panel["title"])
            assert panel["datasource"]["uid"] == source["uid"], (path.name, panel["title"])
            assert all(t["datasource"]["uid"] == source["uid"] for t in panel["targets"])


def test_panels_of_a_dashboard_do_not_overlap() -> None:
    for path in DASHBOARDS:
        cells: dict[tuple[int, int], str] = {}
        for panel in panels(json.loads(path.read_text())):
            g = panel["gridPos"]
            for x in range(g["x"], g["x"] + g["w"]):
                for y in range(g["y"], g["y"] + g["h"]):
                    assert (x, y) not in cells, f"{path.name}: {panel['title']!r} overlaps {cells[(x, y)]!r}"
                    cells[(x, y)] = panel["title"]


def test_every_dashboard_query_parses_as_promql(promtool_path: str, tmp_path: Path) -> None:
    queries = [q for path in DASHBOARDS for q in dashboard_queries(path)]
    assert len(queries) >= 40
    rules = tmp_path / "dashboard_queries.yml"
    rules.write_text(as_recording_rules(queries))
    done = promtool(promtool_path, "check", "rules", str(rules))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(queries)} rules found" in done.stdout


def test_a_broken_query_is_caught_by_the_parse_check(promtool_path: str, tmp_path: Path) -> None:
    rules = tmp_path / "broken.yml"
    rules.write_text(as_recording_rules([("a panel", "sum by (tier) (rate(retail_answers_total[15m])")]))
    assert promtool(promtool_path, "check", "rules", str(rules)).returncode != 0


def test_grafana_provisions_the_dashboards_folder_the_compose_file_mounts() -> None:
    provider = yaml.safe_load((PROVISIONING / "dashboards" / "retail.yml").read_text())["providers"][0]
    assert provider["type"] == "file" and provider["options"]["path"] == "/etc/grafana/dashboards"
    source = yaml.safe_load((PROVISIONING / "datasources" / "prometheus.yml").read_text())["datasources"][0]
    assert source["type"] == "prometheus" and source["url"] == "http://prometheus:9090"
