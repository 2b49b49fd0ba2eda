"""monitoring/prometheus: the alert rules pass `promtool check rules`, their unit tests pass `promtool test
rules`, every alert fires in a test, and a rule that no longer fires fails its test."""

from __future__ import annotations

from pathlib import Path
import shutil

import pytest
import yaml

from tests.monitoring.promql import MONITORING, RULE_TESTS, RULES, promtool, rules


def test_the_rules_and_the_prometheus_config_pass_promtool_check(promtool_path: str) -> None:
    checked = promtool(promtool_path, "check", "rules", str(RULES))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(rules())} rules found" in checked.stdout
    config = promtool(promtool_path, "check", "config", str(MONITORING / "prometheus" / "prometheus.yml"))
    assert config.returncode == 0, config.stdout + config.stderr


def test_the_rule_unit_tests_pass(promtool_path: str) -> None:
    done = promtool(promtool_path, "test", "rules", RULE_TESTS.name, cwd=RULE_TESTS.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_every_alert_has_a_summary_a_description_a_runbook_line_and_a_severity() -> None:
    for rule in rules():
        annotations = rule["annotations"]
        assert {"summary", "description", "runbook"} <= set(annotations), rule["alert"]
        assert "\n" not in annotations["runbook"].strip(), rule["alert"]
        assert rule["labels"]["severity"] in ("page", "ticket"), rule["alert"]


def test_every_alert_fires_in_a_unit_test() -> None:
    tested = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    firing = {check["alertname"] for test in tested for check in test.get("alert_rule_test", [])
              if check.get("exp_alerts")}
    assert firing == {rule["alert"] for rule in rules()}


def test_the_design_thresholds_are_the_ones_the_rules_use() -> None:
    by_name = {rule["alert"]: rule for rule in rules()}
    assert "> 0.05" in by_name["RetailHighErrorRate"]["expr"] and by_name["RetailHighErrorRate"]["for"] == "5m"
    assert "> 5" in by_name["RetailHighLatency"]["expr"] and by_name["RetailHighLatency"]["for"] == "10m"
    assert "< 0.5" in by_name["RetailLowCacheHitRate"]["expr"]
    assert "> 0.01" in by_name["RetailLLMCostPerQueryHigh"]["expr"]


@pytest.mark.parametrize("alert, old, new", [
    ("RetailHighErrorRate", "> 0.05", "> 0.5"),
    ("RetailQuarantineRateHigh", "> 0.05", "> 0.5"),
    ("RetailDatasetStale", '{dataset="retail_sales"}', '{dataset="superstore"}'),
])
def test_a_rule_changed_so_it_no_longer_fires_fails_its_unit_test(promtool_path: str, tmp_path: Path, alert: str,
                                                                  old: str, new: str) -> None:
    changed = yaml.safe_load(RULES.read_text())
    for group in changed["groups"]:
        for rule in group["rules"]:
            if rule["alert"] == alert:
                assert old in rule["expr"]
                rule["expr"] = rule["expr"].replace(old, new)
    (tmp_path / "alerts.yml").write_text(yaml.safe_dump(changed, sort_keys=False))
    shutil.copy(RULE_TESTS, tmp_path / RULE_TESTS.name)
    done = promtool(promtool_path, "test", "rules", RULE_TESTS.name, cwd=tmp_path)
    assert done.returncode != 0
    assert f"alertname: {alert}" in done.stdout + done.stderr
