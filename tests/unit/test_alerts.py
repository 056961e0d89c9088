"""deploy/prometheus/alerts.yml parses, is complete, and only names metrics the scheduler exports."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from prometheus_client import REGISTRY

import scheduler_svc.metrics  # noqa: F401  (registers the scheduler's metrics)

ALERTS = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "alerts.yml"
REQUIRED = {"LinguaNoReadyNodes", "LinguaJobFailureRatioHigh", "LinguaQueueSaturated", "LinguaHeartbeatLoss"}


def exported_series() -> set[str]:
    names = set()
    for family in REGISTRY.collect():
        if family.name.startswith("lingua_"):
            suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}.get(family.type, ("",))
            names |= {family.name + suffix for suffix in suffixes}
    return names


def test_alert_rules_are_well_formed_and_use_real_metrics() -> None:
    doc = yaml.safe_load(ALERTS.read_text())
    rules = [r for g in doc["groups"] for r in g["rules"]]
    assert {r["alert"] for r in rules} >= REQUIRED
    series = exported_series()
    for rule in rules:
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}
        assert rule["annotations"]["summary"]
        used = set(re.findall(r"\blingua_[a-z_]+", rule["expr"]))
        assert used, rule["alert"]
        assert used <= series, f"{rule['alert']} names unknown metrics {used - series}"
