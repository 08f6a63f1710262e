"""The monitoring kit (api/monitoring/) asks only for what the API exports.

Every ckg metric a Grafana panel or an alert rule queries is one the app defines, with the
labels the query selects or groups by; and the compose stack wires Prometheus to the API with
a key the API knows.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

import api.metrics
import graph.metrics
import ingest.metrics
import privacy.metrics
from api.metrics import _model_metrics

ROOT = Path(__file__).resolve().parents[2]
KIT = ROOT / "api" / "monitoring"
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SUFFIXES = {"histogram": ("_bucket", "_count", "_sum"), "counter": ("_total",), "gauge": ("",)}
SELECTOR = re.compile(r"(ckg_\w+)\s*(\{[^}]*\})?")
GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")


def exported() -> dict[str, set[str]]:
    """Sample name -> label names, for every metric the app can write."""
    found: dict[str, set[str]] = {}
    for module in (api.metrics, graph.metrics, ingest.metrics, privacy.metrics):
        for obj in vars(module).values():
            if isinstance(obj, MetricWrapperBase):
                labels = set(obj._labelnames)
                for suffix in SUFFIXES[str(obj._type)]:
                    found[obj._name + suffix] = labels | ({"le"} if suffix == "_bucket" else set())
    stored = {"evaluation": {"results": {"ckg": {"hr@10": 0.5}}}}
    model = {"id": "m", "created_at": 0, "metrics": json.dumps(stored)}
    for family in _model_metrics(model):
        for s in family.samples:
            found[s.name] = set(s.labels)
    found["ckg_store_up"] = set()  # StateCollector's health gauge
    return found


def expressions() -> list[tuple[str, str]]:
    dashboard = json.loads((KIT / "grafana" / "dashboards" / "ckg.json").read_text())
    out = [(f"panel {p['title']!r}", t["expr"]) for p in dashboard["panels"] for t in p["targets"]]
    rules = yaml.safe_load((KIT / "prometheus" / "alerts.yml").read_text())
    out += [(f"alert {r['alert']}", r["expr"]) for g in rules["groups"] for r in g["rules"]]
    return out


def _selected_labels(selector: str | None) -> set[str]:
    return set(re.findall(r"(\w+)\s*(?:=~|!~|!=|=)", selector or ""))


@pytest.mark.parametrize(("where", "expr"), expressions())
def test_every_queried_metric_and_label_is_exported(where: str, expr: str) -> None:
    metrics = exported()
    used = SELECTOR.findall(expr)
    assert used or "up{" in expr, f"{where} queries no ckg metric"
    labels: set[str] = set()
    for name, selector in used:
        assert name in metrics, f"{where}: {name} is not exported"
        unknown = _selected_labels(selector) - metrics[name]
        assert not unknown, f"{where}: {name} has no label {unknown}"
        labels |= metrics[name]
    for group in GROUPING.findall(expr):
        for label in (x.strip() for x in group.split(",") if x.strip()):
            assert label in labels, f"{where}: no queried metric has the label {label!r}"


def test_the_checks_catch_a_wrong_name_and_a_wrong_label() -> None:
    metrics = exported()
    assert "ckg_http_request_duration_seconds_bucket" in metrics
    assert "ckg_http_requests_total" not in metrics
    assert "route" in metrics["ckg_http_request_duration_seconds_count"]
    assert "mode" not in metrics["ckg_store_query_errors_total"]


def _service(name: str) -> dict[str, Any]:
    service: dict[str, Any] = COMPOSE["services"][name]
    return service


def _mounts(service: dict[str, Any]) -> dict[str, Path]:
    """Container path -> host path, with compose's `${VAR:-default}` taken at its default."""
    out = {}
    for volume in service["volumes"]:
        host, container = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", volume).split(":")[:2]
        out[container] = ROOT / host
    return out


def test_prometheus_scrapes_the_api_with_a_key_it_knows() -> None:
    prometheus = _service("prometheus")
    mounts = _mounts(prometheus)
    config = yaml.safe_load(mounts["/etc/prometheus/prometheus.yml"].read_text())
    assert "/etc/prometheus/alerts.yml" in config["rule_files"]
    assert mounts["/etc/prometheus/alerts.yml"] == KIT / "prometheus" / "alerts.yml"
    [job] = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    [target] = job["static_configs"][0]["targets"]
    host, port = target.split(":")
    assert host in COMPOSE["services"] and f"{port}:{port}" in _service(host)["ports"]
    key_file = mounts[job["authorization"]["credentials_file"]]
    key = key_file.read_text().strip()
    raw = _service("api")["environment"]["CKG_API_KEYS"]
    keys = json.loads(re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", raw))
    [entry] = [k for k in keys if k["sha256"] == hashlib.sha256(key.encode()).hexdigest()]
    assert entry["scopes"] == ["metrics:read"]


def test_grafana_is_provisioned_with_the_dashboard_and_prometheus() -> None:
    mounts = _mounts(_service("grafana"))
    provisioning = mounts["/etc/grafana/provisioning"]
    [source] = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())[
        "datasources"
    ]
    assert source["url"] == "http://prometheus:9090"
    [provider] = yaml.safe_load((provisioning / "dashboards" / "ckg.yml").read_text())["providers"]
    dashboards = mounts[provider["options"]["path"]]
    dashboard = json.loads((dashboards / "ckg.json").read_text())
    uids = {t["datasource"]["uid"] for p in dashboard["panels"] for t in p["targets"]}
    assert uids == {source["uid"]}
