"""Output family ``alerts``: Grafana rules and routing, Prometheus rules and their promtool tests,
and the Alertmanager config, all from the one alert catalogue.

Files (relative to the output folder):
  alerts/grafana-rule-groups.json   rule groups in the provisioning-API shape (the sync PUTs them)
  alerts/contact-points.json        contact points, API shape, secrets as $ENV_VAR references
  alerts/notification-policy.json  the policy subtree modeldash owns (grafted by the sync)
  alerts/grafana-alerting.yaml      the same for Grafana's file provisioning (sidecar)
  prometheus/rules.yaml             alerting + recording rules (rule_files / promtool check rules)
  prometheus/tests/<Alert>[.<ns>.<model>].yaml  promtool unit tests, one file per chunk of an
                                    alert's models (alerts/test_shards.py; small fleets: per alert)
  prometheus/tests/rules/<same>.yaml  the rules that test file loads: its chunk's alert rules and
                                    the recording rules they read (not the whole fleet's)
  alertmanager/alertmanager.yaml    routing for the kube-prometheus-stack path (amtool check-config)
"""
from __future__ import annotations

from modeldash.alerts import build as A
from modeldash.scripts.render_context import RenderContext
from modeldash.scripts.serialise import dumps_json, dumps_yaml, dumps_yaml_json

GRAFANA_GROUPS = "alerts/grafana-rule-groups.json"
CONTACT_POINTS = "alerts/contact-points.json"
POLICY = "alerts/notification-policy.json"
GRAFANA_FILE = "alerts/grafana-alerting.yaml"
PROM_RULES = "prometheus/rules.yaml"
PROM_TESTS_DIR = "prometheus/tests"
ALERTMANAGER = "alertmanager/alertmanager.yaml"


def alert_files(ctx: RenderContext) -> dict[str, str]:
    spec = ctx.spec
    defs, skipped = ctx.catalog
    if not defs:
        ctx.summary.append("alerts: disabled (alerting.enabled is false)")
        return {}
    groups = A.grafana_rule_groups(spec, defs)
    objects = {
        GRAFANA_GROUPS: groups,
        CONTACT_POINTS: A.contact_points(spec),
        POLICY: A.notification_policy_subtree(spec),
    }
    files = {path: dumps_json(obj) for path, obj in objects.items()}
    yaml_objects = {
        GRAFANA_FILE: ctx.grafana_alerting,
        PROM_RULES: ctx.prometheus_rules,
    }
    am = A.alertmanager_config(spec, defs)
    if am:
        yaml_objects[ALERTMANAGER] = am
    tests, test_rules = A.promtool_suite(spec, defs)
    for name, doc in tests.items():
        yaml_objects[f"{PROM_TESTS_DIR}/{name}.yaml"] = doc
        yaml_objects[f"{PROM_TESTS_DIR}/{A.TEST_RULES_DIR}/{name}.yaml"] = test_rules[name]
    # the large documents as JSON-compatible YAML (orjson), the small hand-read one as YAML
    files.update({path: dumps_yaml(obj) if path == ALERTMANAGER else dumps_yaml_json(obj)
                  for path, obj in yaml_objects.items()})
    ctx.parsed.update(objects)
    ctx.parsed.update(yaml_objects)
    ctx.manifest["alert_rule_uids"] = sorted(d.uid for d in defs)
    if skipped:
        ctx.manifest["alerts_skipped"] = [f"{a} ({m}): {why}" for a, m, why in skipped]
    ctx.summary.append(
        f"alerts: {len(defs)} rules in {len(groups)} groups, {A.count_cases(tests)} promtool test cases"
        + (f", {len(skipped)} skipped (see manifest)" if skipped else "")
    )
    return files
