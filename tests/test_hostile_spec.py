"""Hostile and malformed specs (issue 11): one table row per class of bad input.

Every refused case must give exit 2, ONE line on stderr naming the file and the spec field,
and write nothing. Accepted edge cases (nulls, partial blocks, merge keys) must render, and
the rules they produce must pass promtool.
"""
from __future__ import annotations

import math
import shutil
import subprocess

import pytest
import yaml
from click.testing import CliRunner

from modeldash.scripts.cli import main
from modeldash.spec.alert_names import ALERT_NAMES

DELETE = object()
INJECT = 'amount"} or vector(1) or model_drift_score{feature="x'
TEMPLATE = '{{ with query "up" }}{{ . }}{{ end }}'


def _set(data, path, value):
    *parents, last = path
    for key in parents:
        data = data.setdefault(key, {}) if isinstance(data, dict) else data[key]
    if value is DELETE:
        del data[last]
    else:
        data[last] = value


# (id, path in the example fleet, value, expected field path, a word of the reason)
REFUSED = [
    # values reaching PromQL, label values and templates
    ("feature-promql-injection", ("models", 0, "features", 1), INJECT, "models[0].features[1].name", "contains"),
    ("class-promql-injection", ("models", 0, "classes"), {"legit": 0.8, INJECT: 0.2},
     f"models[0].classes.{INJECT}", "contains"),
    ("feature-template", ("models", 0, "features", 0), TEMPLATE, "models[0].features[0].name", "contains"),
    ("feature-newline", ("models", 1, "features", 0), "tenure\nmonths", "models[1].features[0].name", "contains"),
    ("feature-backslash", ("models", 1, "features", 0), "ten\\ure", "models[1].features[0].name", "contains"),
    ("feature-quote", ("models", 2, "features", 0), 'sq"ft', "models[2].features[0].name", "contains"),
    ("feature-dollar", ("models", 2, "features", 0), "$HOME", "models[2].features[0].name", "contains"),
    ("class-newline", ("models", 1, "classes"), {"stay": 0.5, "a\nb": 0.5}, "models[1].classes['a\\nb']", "contains"),
    ("owner-team-quote", ("models", 0, "owner_team"), 'ri"sk', "models[0].owner_team", "contains"),
    ("fleet-team-template", ("labels", "team"), "{{ $labels.x }}", "labels.team", "contains"),
    ("runbook-template", ("models", 0, "runbook_url"), "https://x/{{ .Labels }}", "models[0].runbook_url", "URL"),
    ("runbook-not-url", ("alerting", "runbook_base_url"), "not a url", "alerting.runbook_base_url", "URL"),
    ("slack-channel-template", ("alerting", "receivers", 0, "slack", "channel"), "#{{ .x }}",
     "alerting.receivers[0].slack.channel", "Slack channel"),
    # numbers
    ("nan-threshold", ("defaults", "thresholds", "error_ratio", "warning"), math.nan,
     "defaults.thresholds.error_ratio.warning", "finite"),
    ("inf-threshold", ("models", 0, "thresholds", "drift"), {"threshold": math.inf},
     "models[0].thresholds.drift.threshold", "finite"),
    ("inf-latency", ("models", 2, "thresholds", "latency_p95", "critical"), math.inf,
     "models[2].thresholds.latency_p95.critical", "duration"),
    ("negative-drift", ("models", 0, "thresholds", "drift"), {"threshold": -5},
     "models[0].thresholds.drift.threshold", "negative"),
    ("negative-feature-threshold", ("models", 2, "features", 2, "threshold"), -0.2,
     "models[2].features[2].threshold", "negative"),
    ("zero-latency", ("models", 2, "thresholds", "latency_p95", "warning"), "0ms",
     "models[2].thresholds.latency_p95.warning", "out of range"),
    ("huge-latency", ("models", 2, "thresholds", "latency_p95", "critical"), "30d",
     "models[2].thresholds.latency_p95.critical", "out of range"),
    ("restarts-1e30", ("platform", "restarts_in_5m"), 1e30, "platform.restarts_in_5m", "integer"),
    ("restarts-fraction", ("platform", "restarts_in_5m"), 2.5, "platform.restarts_in_5m", "integer"),
    ("node-ratio-above-1", ("infrastructure", "node_cpu", "warning"), 85, "infrastructure.node_cpu.warning", "ratio"),
    ("error-ratio-1", ("defaults", "thresholds", "error_ratio", "critical"), 1.0,
     "defaults.thresholds.error_ratio.critical", "ratio"),
    ("rmse-zero", ("models", 2, "thresholds", "quality", "rmse_max"), 0,
     "models[2].thresholds.quality.rmse_max", "out of range"),
    ("traffic-floor-inf", ("defaults", "thresholds", "traffic"), {"floor_rps": "inf"},
     "defaults.thresholds.traffic.floor_rps", "finite"),
    # durations
    ("for-sub-millisecond", ("defaults", "thresholds", "error_ratio", "for"), 0.0001,
     "defaults.thresholds.error_ratio.for", "milliseconds"),
    ("for-1y", ("defaults", "thresholds", "drift", "for"), "1y", "defaults.thresholds.drift.for", "maximum"),
    ("for-1000y", ("models", 0, "thresholds", "drift"), {"for": "1000y"}, "models[0].thresholds.drift.for", "maximum"),
    ("for-2d", ("platform", "crash_loop_for"), "2d", "platform.crash_loop_for", "maximum of 1d"),
    ("period-8d", ("jobs", "quality", "period"), "8d", "jobs.quality.period", "maximum of 7d"),
    ("for-huge-digits", ("platform", "hpa_maxed_for"), "9" * 30 + "y", "platform.hpa_maxed_for", "maximum"),
    ("period-zero", ("jobs", "drift", "period"), "0s", "jobs.drift.period", "positive"),
    ("group-interval-negative", ("alerting", "routes", "group_interval"), -5, "alerting.routes.group_interval",
     "non-negative"),
    ("lookback-zero", ("defaults", "thresholds", "traffic"), {"lookback": 0}, "defaults.thresholds.traffic.lookback",
     "positive"),
    # labels
    *[(f"reserved-label-{key}", ("models", 0, "labels"), {key: "x"}, f"models[0].labels.{key}", "reserved")
      for key in ("model", "severity", "team", "feature", "managed_by", "namespace", "alertname", "__name__",
                  "__meta_x")],
    ("fleet-label-managed-by", ("labels", "managed_by"), "terraform", "labels.managed_by", "reserved"),
    ("label-key-template", ("models", 0, "labels"), {"{{feature}}": "x"}, "models[0].labels.{{feature}}",
     "label name"),
    ("label-value-template", ("models", 0, "labels"), {"tier": "{{ $value }}"}, "models[0].labels.tier", "contains"),
    ("label-value-not-string", ("models", 0, "labels"), {"tier": 3}, "models[0].labels.tier", "string"),
    ("group-by-not-label", ("alerting", "routes", "group_by"), ["alertname", "not a label!"],
     "alerting.routes.group_by[1]", "label name"),
    ("team-key-quote", ("alerting", "routes", "teams"), {'ri"sk': {"critical": "risk-oncall"}},
     'alerting.routes.teams.ri"sk', "contains"),
    # Kubernetes values
    ("cron-minute-61", ("jobs", "drift", "schedule"), "61 * * * *", "jobs.drift.schedule", "minute"),
    ("cron-letters", ("jobs", "drift", "schedule"), "a b c d e", "jobs.drift.schedule", "minute"),
    ("cron-four-fields", ("jobs", "quality", "schedule"), "0 * * *", "jobs.quality.schedule", "five-field"),
    ("cron-bad-step", ("jobs", "quality", "schedule"), "*/0 * * * *", "jobs.quality.schedule", "step"),
    ("cron-month-13", ("jobs", "quality", "schedule"), "0 0 1 13 *", "jobs.quality.schedule", "month"),
    ("image-empty", ("jobs", "image"), "", "jobs.image", "image reference"),
    ("image-spaced", ("jobs", "image"), "ghcr.io/x/jobs: 1", "jobs.image", "image reference"),
    ("image-upper", ("jobs", "image"), "GHCR.io/X/Jobs", "jobs.image", "image reference"),
    ("pushgateway-selector-key", ("jobs", "pushgateway_selector"), {"bad key!": "x"}, "jobs.pushgateway_selector",
     "label key"),
    ("pushgateway-selector-value", ("jobs", "pushgateway_selector"), {"app": "a b"}, "jobs.pushgateway_selector",
     "label value"),
    ("pushgateway-port-empty", ("jobs", "pushgateway_port"), "", "jobs.pushgateway_port", "port name"),
    ("pushgateway-url", ("jobs", "pushgateway_url"), "pushgateway:9091", "jobs.pushgateway_url", "URL"),
    ("service-monitor-label", ("jobs", "service_monitor_labels"), {"release": "has space"},
     "jobs.service_monitor_labels", "label value"),
    # file names
    ("folder-nul", ("grafana", "folder"), "ML\x00Models", "grafana.folder", "folder title"),
    ("folder-emoji", ("grafana", "folder"), "\U0001F600" * 190, "grafana.folder", "bytes"),
    ("folder-slash", ("grafana", "folder"), "ML/Models", "grafana.folder", "folder title"),
    ("folder-dots", ("grafana", "folder"), "..", "grafana.folder", "folder title"),
    # typos
    ("disabled-alert-typo", ("alerting", "disabled_alerts"), ["ModelDriftHihg"], "alerting.disabled_alerts[0]",
     "ModelDriftHigh"),
    ("datasource-url", ("datasource", "url"), "not a url", "datasource.url", "URL"),
]


def _render(spec_path, out):
    return CliRunner().invoke(main, ["render", str(spec_path), "-o", str(out)])


def _one_error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize("path,value,field,word", [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_refused_with_field_and_nothing_written(example_data, write_spec, tmp_path, path, value, field, word):
    _set(example_data, path, value)
    spec = write_spec(example_data)
    out = tmp_path / "out"
    result = _render(spec, out)
    assert result.exit_code == 2, result.output
    line = _one_error_line(result)
    assert line.startswith(f"error: {spec}: {field}: "), line
    assert word in line, line
    assert not out.exists()


def test_refusal_leaves_a_previous_render_alone(example_data, write_spec, tmp_path):
    out = tmp_path / "out"
    assert _render(write_spec(example_data, "good.yaml"), out).exit_code == 0
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    _set(example_data, ("models", 0, "features", 1), INJECT)
    assert _render(write_spec(example_data), out).exit_code == 2
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


RAW_REFUSED = [
    ("complex-key", "models:\n  ? [a, b]\n  : 1\n", "", "mapping key"),
    ("duplicate-key", "name: a\nname: b\nmodels: []\n", "", "duplicate key"),
    ("yaml-nan-literal", "defaults: {thresholds: {drift: {threshold: .nan}}}\n"
                         "models: [{name: m, namespace: n, task: regression}]\n",
     "defaults.thresholds.drift.threshold", "finite"),
]


@pytest.mark.parametrize("text,field,word", [c[1:] for c in RAW_REFUSED], ids=[c[0] for c in RAW_REFUSED])
def test_raw_yaml_refused(tmp_path, text, field, word):
    spec = tmp_path / "fleet.yaml"
    spec.write_text(text)
    result = _render(spec, tmp_path / "out")
    assert result.exit_code == 2
    line = _one_error_line(result)
    assert line.startswith(f"error: {spec}: {field + ': ' if field else ''}"), line
    assert word in line
    assert not (tmp_path / "out").exists()


def test_directory_as_spec_is_one_line(tmp_path):
    result = _render(tmp_path, tmp_path / "out")
    assert result.exit_code == 2
    assert _one_error_line(result) == f"error: {tmp_path}: is a directory; give the fleet spec file (e.g. fleet.yaml)"


def test_unknown_disabled_alert_lists_the_known_names(example_data, write_spec, tmp_path):
    example_data["alerting"]["disabled_alerts"] = ["Nope"]
    line = _one_error_line(_render(write_spec(example_data), tmp_path / "out"))
    assert all(name in line for name in ALERT_NAMES)


def test_catalogue_names_are_the_spec_list(example_spec):
    """The spec's list of alert names is exactly what the catalogue generates (no stale entry)."""
    from modeldash.alerts.catalog import alert_definitions

    assert {d.name for d in alert_definitions(example_spec)} == set(ALERT_NAMES)


def test_disabled_alert_is_gone(example_data, write_spec, tmp_path):
    example_data["alerting"]["disabled_alerts"] = ["ModelDriftHigh"]
    out = tmp_path / "out"
    assert _render(write_spec(example_data), out).exit_code == 0
    assert "ModelDriftHigh" not in (out / "prometheus" / "rules.yaml").read_text()


# --------------------------------------------------------------------------- accepted edge cases

MERGE_SPEC = """\
x-model: &served {namespace: shop, task: regression, features: [sqft]}
models:
  - <<: *served
    name: m-one
  - <<: *served
    name: m-two
    namespace: other
"""


def _promtool_rules(out):
    if not shutil.which("promtool"):
        pytest.skip("promtool not installed")
    proc = subprocess.run(["promtool", "check", "rules", str(out / "prometheus" / "rules.yaml")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_yaml_merge_keys_are_accepted(tmp_path):
    spec = tmp_path / "fleet.yaml"
    spec.write_text(MERGE_SPEC)
    out = tmp_path / "out"
    result = _render(spec, out)
    assert result.exit_code == 0, result.output
    rules = (out / "prometheus" / "rules.yaml").read_text()
    assert 'model="m-one"' in rules and 'namespace="other"' in rules
    _promtool_rules(out)


def test_null_level_means_no_alert_at_that_level(example_data, write_spec, tmp_path):
    example_data["defaults"]["thresholds"]["latency_p95"] = {"warning": None, "critical": "1s"}
    example_data["defaults"]["thresholds"]["error_ratio"] = {"warning": 0.02, "critical": None}
    example_data["models"][2]["thresholds"]["latency_p95"] = {"warning": None}
    out = tmp_path / "out"
    result = _render(write_spec(example_data), out)
    assert result.exit_code == 0, result.output
    rules = yaml.safe_load((out / "prometheus" / "rules.yaml").read_text())
    names = [r.get("alert") for g in rules["groups"] for r in g["rules"]]
    assert "ModelLatencyP95High" not in names and "ModelLatencyP95Critical" in names
    sev = {r["labels"]["severity"] for g in rules["groups"] for r in g["rules"] if r.get("alert") == "ModelErrorRateHigh"}
    assert sev == {"warning"}
    _promtool_rules(out)


def test_infrastructure_and_platform_merge_key_by_key(example_data, write_spec, tmp_path):
    example_data["infrastructure"] = {"node_cpu": {"critical": 0.95}}
    example_data["platform"] = {"restarts_in_5m": 7}
    out = tmp_path / "out"
    assert _render(write_spec(example_data), out).exit_code == 0
    rules = yaml.safe_load((out / "prometheus" / "rules.yaml").read_text())
    cpu = {r["labels"]["severity"]: r["expr"] for g in rules["groups"] for r in g["rules"]
           if r.get("alert") == "HighNodeCPUUsage"}
    assert set(cpu) == {"warning", "critical"}  # the default warning (0.85) stays
    assert cpu["warning"].endswith("> 0.85") and cpu["critical"].endswith("> 0.95")
    memory = [r for g in rules["groups"] for r in g["rules"] if r.get("alert") == "HighNodeMemoryUsage"]
    assert memory  # an untouched sibling block keeps its defaults
    restarts = [r["expr"] for g in rules["groups"] for r in g["rules"] if r.get("alert") == "FrequentPodRestarts"]
    assert restarts and all(e.endswith("> 7") for e in restarts)


def test_safe_punctuation_in_names_passes_promtool(example_data, write_spec, tmp_path):
    """The allowed character set (any script, space, . : / + @ -) needs no escaping anywhere."""
    example_data["models"][0]["features"] = ["größe.v2/a+b@c:d-e f", "amount"]
    example_data["models"][0]["classes"] = {"légit ok": 0.8, "fraud/x": 0.2}
    example_data["models"][0]["labels"] = {"tier": "gold tier/1"}
    out = tmp_path / "out"
    result = _render(write_spec(example_data), out)
    assert result.exit_code == 0, result.output
    rules = (out / "prometheus" / "rules.yaml").read_text()
    assert 'feature="größe.v2/a+b@c:d-e f"' in rules
    _promtool_rules(out)
