"""deploy/monitoring: the Prometheus alert rules and the Grafana dashboard.

promtool is not installable here, so the rules' YAML is checked against the rule-file
structure Prometheus documents, and every expression (rules and dashboard queries alike) may
name only metrics the services really export: the test scrapes the three real apps.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.gateway.conftest import CallsGateway
from tests.ops.scrape import scrape
from tests.ops.test_metrics import _profiles_app

MONITORING = Path(__file__).resolve().parents[2] / "deploy" / "monitoring"
ALERTS = MONITORING / "alerts.yaml"
DASHBOARD = MONITORING / "grafana-dashboard.json"
# Series Prometheus makes itself, not the services.
PROMETHEUS_SERIES = {"up"}
PROMQL_WORDS = {
    "sum", "min", "max", "avg", "count", "topk", "bottomk", "quantile", "stddev", "stdvar",
    "rate", "irate", "increase", "delta", "deriv", "histogram_quantile", "max_over_time",
    "min_over_time", "avg_over_time", "absent", "clamp_min", "clamp_max", "by", "without",
    "and", "or", "unless", "on", "ignoring", "group_left", "group_right", "bool", "offset",
}  # fmt: skip
DURATION = re.compile(r"^\d+[smhdwy]$")
RULE_KEYS = {"alert", "expr", "for", "labels", "annotations", "keep_firing_for"}
REQUIRED_ALERTS = {
    "feed lag": "convene_feed_lag_seconds",
    "error rate": 'status=~"5.."',
    "dead letters": "convene_notification_dead_letters",
    "p99 latency": "histogram_quantile(0.99",
}


def metric_names(expr: str) -> set[str]:
    """The series an expression selects: identifiers outside label matchers, grouping
    clauses, strings and range brackets, minus functions and keywords."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    names = set(re.findall(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)", text))
    return {name for name in names if name not in PROMQL_WORDS}


def exported_names(families: dict[str, str]) -> set[str]:
    names = set()
    for family, kind in families.items():
        names.add(family)
        if kind == "counter":
            names.add(f"{family}_total")
        if kind == "histogram":
            names |= {f"{family}_bucket", f"{family}_count", f"{family}_sum"}
    return names


def load_rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(ALERTS.read_text())
    assert set(document) == {"groups"}
    rules = []
    group_names = set()
    for group in document["groups"]:
        assert set(group) <= {"name", "interval", "rules"}, group.keys()
        assert group["name"] not in group_names
        group_names.add(group["name"])
        assert group["rules"], group["name"]
        rules.extend(group["rules"])
    return rules


def dashboard_exprs() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]


def test_alert_rules_have_the_rule_file_structure() -> None:
    rules = load_rules()
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names)), "duplicate alert names"
    for rule in rules:
        assert set(rule) <= RULE_KEYS, rule
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", rule["alert"]), rule["alert"]
        assert isinstance(rule["expr"], str), rule["alert"]
        assert rule["expr"].strip(), rule["alert"]
        assert rule["expr"].count("(") == rule["expr"].count(")"), rule["alert"]
        assert DURATION.match(rule["for"]), rule["alert"]
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
    exprs = " ".join(rule["expr"] for rule in rules)
    for what, needle in REQUIRED_ALERTS.items():
        assert needle in exprs, f"no alert on {what}"


def test_the_dashboard_has_grafanas_structure() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"]
    assert dashboard["title"]
    assert isinstance(dashboard["schemaVersion"], int)
    (variable,) = dashboard["templating"]["list"]
    assert variable == {**variable, "name": "datasource", "type": "datasource"}
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "duplicate panel ids"
    for panel in dashboard["panels"]:
        assert panel["type"] in {"timeseries", "stat", "table", "gauge"}, panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}"
        grid = panel["gridPos"]
        assert set(grid) == {"h", "w", "x", "y"}, panel["title"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert refs, panel["title"]
        assert len(refs) == len(set(refs)), panel["title"]
        for target in panel["targets"]:
            assert target["expr"].count("(") == target["expr"].count(")"), target["expr"]
    exprs = " ".join(dashboard_exprs())
    for needle in ("convene_feed_lag_seconds", "convene_routing_stage_seconds_bucket"):
        assert needle in exprs


def test_metric_names_are_parsed_from_promql() -> None:
    assert metric_names(
        'histogram_quantile(0.99, sum by (service, le) (rate(x_bucket{route!="/a"}[5m]))) > 0.5'
    ) == {"x_bucket"}
    assert metric_names("max by (channel) (a) / on (b) c > 0") == {"a", "c"}


@pytest.mark.parametrize("source", ["alerts", "dashboard"])
async def test_every_expression_names_exported_metrics(
    calls_gateway: CallsGateway, source: str
) -> None:
    g = calls_gateway
    families: dict[str, str] = {}
    for app in (g.app, g.matcher_app, _profiles_app(g)):
        families |= (await scrape(app)).families
    exported = exported_names(families) | PROMETHEUS_SERIES
    exprs = [r["expr"] for r in load_rules()] if source == "alerts" else dashboard_exprs()
    assert exprs
    for expr in exprs:
        names = metric_names(expr)
        assert names, expr
        unknown = names - exported
        assert not unknown, f"{source}: {expr} names {sorted(unknown)}, not exported"
