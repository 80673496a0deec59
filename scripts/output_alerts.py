"""Output family ``alerts``: Grafana rules and routing, Prometheus rules and their promtool tests,
and the Alertmanager config, all from the one alert catalogue.

Files (relative to the output folder):
  alerts/grafana-rule-groups.json   rule groups in the provisioning-API shape (the sync PUTs them)
  alerts/contact-points.json        contact points, API shape, secrets as $ENV_VAR references
  alerts/notification-policy.json  the policy subtree modeldash owns (grafted by the sync)
  alerts/grafana-alerting.yaml      the same for Grafana's file provisioning (sidecar)
  prometheus/rules.yaml             alerting + recording rules (rule_files / promtool check rules)
  prometheus/tests/<Alert>[.<ns>.<model>].yaml  promtool unit tests of one representative per
                                    rule shape (manifest: promtool_shapes), one file per chunk of
                                    an alert's shapes (alerts/test_shards.py; small fleets: per alert)
  prometheus/tests/rules/<same>.yaml  the rules that test file loads: its chunk's alert rules and
                                    the recording rules they read (not the whole fleet's)
  alertmanager/alertmanager.yaml    routing for the kube-prometheus-stack path (amtool check-config)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from modeldash.alerts import build as A
from modeldash.scripts.render_context import RenderContext
from modeldash.spec.outputs import selected
from modeldash.scripts.serialise import dumps_json, dumps_json_bytes, dumps_yaml

GRAFANA_GROUPS = "alerts/grafana-rule-groups.json"
CONTACT_POINTS = "alerts/contact-points.json"
POLICY = "alerts/notification-policy.json"
GRAFANA_FILE = "alerts/grafana-alerting.yaml"
PROM_RULES = "prometheus/rules.yaml"
PROM_TESTS_DIR = "prometheus/tests"
ALERTMANAGER = "alertmanager/alertmanager.yaml"


@dataclass
class AlertParts:
    """What the summary line needs from the family's steps, which may run in different
    processes (``render.render_to``): merged by ``absorb`` before ``alert_summary`` writes it."""

    rules: int = 0
    groups: int | None = None  # set by the rules step (None: alerting disabled)
    skipped: int = 0
    cases: int | None = None  # set by the tests step (None: no promtool tests written)
    covered: dict | None = None

    def absorb(self, earlier: "AlertParts") -> None:
        for name in ("groups", "cases", "covered"):
            if getattr(self, name) is None:
                setattr(self, name, getattr(earlier, name))
        self.rules, self.skipped = max(self.rules, earlier.rules), max(self.skipped, earlier.skipped)


def _parts(ctx: RenderContext) -> AlertParts:
    return ctx.parts.setdefault("alerts", AlertParts())


def alert_rule_files(ctx: RenderContext) -> Iterator[tuple[str, str | bytes]]:
    """The family's rule files, each serialised and handed on as soon as it is built: the large
    documents (rule groups) are dropped before the next one is built."""
    spec = ctx.spec
    defs, skipped = ctx.catalog
    if not defs:
        ctx.summary.append("alerts: disabled (alerting.enabled is false)")
        return
    ctx.manifest["alert_rule_uids"] = sorted(d.uid for d in defs)
    if skipped:
        ctx.manifest["alerts_skipped"] = [f"{a} ({m}): {why}" for a, m, why in skipped]
    # the large documents as JSON-compatible YAML (serialise.dumps_yaml_json), as the bytes
    # that go to disk; each is dropped before the next is built
    yield _file(ctx, PROM_RULES, ctx.prometheus_rules, dumps_json_bytes)
    ctx.done_with("prometheus_rules", "recordings")  # not held while the Grafana documents are built
    yield _file(ctx, GRAFANA_FILE, ctx.grafana_alerting, dumps_json_bytes)
    # the API groups are the file document's rules, reshaped (each rule is built once)
    groups = A.grafana_rule_groups(spec, defs, file_groups=ctx.grafana_alerting["groups"])
    ctx.done_with("grafana_alerting", "prometheus_rules")
    parts = _parts(ctx)
    parts.rules, parts.groups, parts.skipped = len(defs), len(groups), len(skipped)
    yield _file(ctx, GRAFANA_GROUPS, groups, dumps_json_bytes)
    del groups
    yield _file(ctx, CONTACT_POINTS, A.contact_points(spec), dumps_json)
    yield _file(ctx, POLICY, A.notification_policy_subtree(spec), dumps_json)
    am = A.alertmanager_config(spec, defs)
    if am:
        yield _file(ctx, ALERTMANAGER, am, dumps_yaml)


def alert_test_files(ctx: RenderContext) -> Iterator[tuple[str, str | bytes]]:
    """The promtool tests: one per rule shape, each file with the rules it loads. They read
    only the catalogue and the recording rules, so a large fleet's render builds them beside
    the rule files."""
    spec = ctx.spec
    defs, _skipped = ctx.catalog
    if not defs or not selected(f"{PROM_TESTS_DIR}/", ctx.only):  # --only without prometheus-rules
        return
    index = A.recording_index(spec, ctx.recordings)  # built once for both
    shapes = A.rule_shapes(spec, defs, index)  # one test per rule shape (prometheus_rules.Shape)
    covered = ctx.manifest["promtool_shapes"] = A.shape_summary(shapes)
    tests, test_rules = A.promtool_suite(spec, defs, shapes, index)
    del shapes, index
    ctx.done_with("recordings")
    parts = _parts(ctx)
    parts.cases, parts.covered = A.count_cases(tests), covered
    for name in list(tests):
        yield _file(ctx, f"{PROM_TESTS_DIR}/{name}.yaml", tests.pop(name), dumps_json_bytes)
        yield _file(ctx, f"{PROM_TESTS_DIR}/{A.TEST_RULES_DIR}/{name}.yaml", test_rules.pop(name), dumps_json_bytes)


def alert_summary(ctx: RenderContext) -> Iterator[tuple[str, str]]:
    """The family's summary line, once both steps ran (it writes no file)."""
    parts = ctx.parts.get("alerts")
    if parts is None or parts.groups is None:
        return
    line = f"alerts: {parts.rules} rules in {parts.groups} groups"
    if parts.cases is not None:
        line += (f", {parts.cases} promtool test cases covering "
                 f"{parts.covered['rules']} rules ({parts.covered['shapes']} shapes)")
    ctx.summary.append(line + (f", {parts.skipped} skipped (see manifest)" if parts.skipped else ""))
    yield from ()


def _file(ctx: RenderContext, rel: str, obj, dump) -> tuple[str, str | bytes]:
    """``(rel, text)``, the object kept in ``ctx.parsed`` for lint (which pops it)."""
    ctx.parsed[rel] = obj
    return rel, dump(obj)
