"""A panel and the alert that links to it read the same series with the same selectors.

Both take their PromQL from ``datasources/``; this test proves it on the generated output, so a
filter written twice (the node-disk ``fstype`` drift, a ``job`` matcher on the panel only) fails.
Alerts that read a recorded ``model:*`` series are compared through the recording rule's
expression: what the recorded series is computed from must match what the panel reads.
"""
from __future__ import annotations

import re

from modeldash.spec.alert_names import ALERT_NAMES

import promql_parser
import pytest

from modeldash.alerts.build import alert_definitions, recording_rules
from modeldash.dashboards.build import build_dashboards
from modeldash.datasources import recorded

# The panel shows what the job writes (drift scores, quality metrics); no panel shows the
# job's last-success timestamp, so there is no shared series to compare.
NO_SHARED_SERIES = {"ModelMonitoringJobStale"}
_LEGEND_LABEL = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def selectors(expr: str) -> list[tuple[str, frozenset]]:
    """Every vector selector of ``expr`` as (metric name, {(label, op, value)})."""
    found = []

    def visit(node):
        if isinstance(node, promql_parser.VectorSelector):
            matchers = frozenset((m.name, str(m.op).rsplit(".", 1)[-1], m.value) for m in node.matchers.matchers)
            found.append((node.name, matchers))

    promql_parser.walk(promql_parser.parse(expr.replace("$__rate_interval", "5m")), pre_visit=visit)
    return found


def expand_recorded(expr: str, rules) -> list[tuple[str, frozenset]]:
    """Selectors of ``expr``, with each recorded series replaced by what its recording rule reads."""
    out = []
    for name, matchers in selectors(expr):
        if name not in recorded.NAMES:
            out.append((name, matchers))
            continue
        pinned = {(k, v) for k, op, v in matchers if op == "Equal"}
        (rule,) = [r for r in rules if r.record == name and set(r.labels.items()) <= pinned]
        out += selectors(rule.expr)
    return out


def free_labels(panel: dict) -> set[str]:
    """Labels a panel leaves open: matched by a dashboard variable, or shown one series each."""
    labels = set()
    for t in panel.get("targets", []):
        labels |= {k for _, ms in selectors(t["expr"]) for k, _op, v in ms if "$" in v}
        labels |= set(_LEGEND_LABEL.findall(t.get("legendFormat", "")))
    return labels


def _normal(matchers: frozenset, free: set[str]) -> frozenset:
    # a free label may be pinned by the alert or absent; =~".*" matches everything
    return frozenset(m for m in matchers if m[0] not in free and m[1:] != ("Re", ".*"))


def disagreements(alert_expr: str, panel: dict, rules) -> tuple[int, list[str]]:
    """(shared metrics, problems): each alert selector of a metric the panel reads must equal
    one of the panel's selectors of that metric, outside the panel's free labels."""
    free = free_labels(panel)
    panel_sel: dict[str, set] = {}
    for t in panel.get("targets", []):
        for name, ms in selectors(t["expr"]):
            panel_sel.setdefault(name, set()).add(_normal(ms, free))
    shared, problems = set(), []
    for name, ms in expand_recorded(alert_expr, rules):
        if name not in panel_sel:
            continue
        shared.add(name)
        if _normal(ms, free) not in panel_sel[name]:
            problems.append(f"{name}: alert {sorted(_normal(ms, free))} vs panel "
                            f"{[sorted(p) for p in panel_sel[name]]}")
    return len(shared), problems


def _panels(spec) -> dict[tuple[str, int], dict]:
    out = {}

    def walk(board_uid, panels):
        for p in panels:
            out[(board_uid, p["id"])] = p
            walk(board_uid, p.get("panels", []))

    for board in build_dashboards(spec):
        walk(board.uid, board.json["panels"])
    return out


def test_every_alert_agrees_with_its_panel(example_spec):
    panels = _panels(example_spec)
    rules = recording_rules(example_spec)
    checked = 0
    for d in alert_definitions(example_spec):
        if d.name in NO_SHARED_SERIES:
            continue
        panel = panels[d.panel]
        shared, problems = disagreements(d.expr, panel, rules)
        assert shared, f"{d.title}: reads nothing its panel {panel['title']!r} reads"
        assert not problems, f"{d.title} vs panel {panel['title']!r}:\n" + "\n".join(problems)
        checked += 1
    names = {d.name for d in alert_definitions(example_spec)} - NO_SHARED_SERIES
    # every alert but the exempt ones was compared (the SLO burn alerts too: their recordings expand)
    assert checked > 50 and names == set(ALERT_NAMES) - NO_SHARED_SERIES


@pytest.mark.parametrize("panel_expr,alert_expr", [
    # the node-disk filter as it drifted (panel vs alert before one definition)
    ('1 - node_filesystem_avail_bytes{job="node-exporter", instance=~"$instance", fstype!~"tmpfs|overlay", '
     'mountpoint!=""} / node_filesystem_size_bytes{job="node-exporter", instance=~"$instance", '
     'fstype!~"tmpfs|overlay", mountpoint!=""}',
     '1 - max by (instance) (node_filesystem_avail_bytes{job="node-exporter", fstype!~"tmpfs|overlay|squashfs", '
     'fstype!=""}) / max by (instance) (node_filesystem_size_bytes{job="node-exporter", '
     'fstype!~"tmpfs|overlay|squashfs", fstype!=""})'),
    # the kube-state-metrics job matcher on the panel only
    ('kube_node_status_condition{job="kube-state-metrics", condition="Ready", status="true"}',
     'max by (node) (kube_node_status_condition{condition="Ready", status="true"})'),
])
def test_the_check_catches_the_drift_it_is_for(panel_expr, alert_expr):
    panel = {"targets": [{"expr": panel_expr, "legendFormat": "{{instance}}"}]}
    shared, problems = disagreements(alert_expr, panel, [])
    assert shared == len(problems) == (1 if "kube_node" in panel_expr else 2)  # every shared metric differs


def test_recorded_series_are_compared_through_their_rule(example_spec):
    rules = recording_rules(example_spec)
    d = next(d for d in alert_definitions(example_spec) if d.name == "ModelLatencyP95High"
             and d.model == "fraud-detector")
    assert [n for n, _ in selectors(d.expr)] == [recorded.LATENCY_P95]
    assert [n for n, _ in expand_recorded(d.expr, rules)] == ["revision_request_latencies_bucket"]
    drifted = {"targets": [{"expr": 'histogram_quantile(0.95, sum by (le) (rate(revision_request_latencies_bucket'
                                    '{namespace_name="fraud", configuration_name="fraud-detector"}[5m])))'}]}
    assert disagreements(d.expr, drifted, rules)[1]  # the predictor suffix missing on the panel
