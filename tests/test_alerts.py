"""Alerts as code: Grafana rules, Prometheus twins, routing, spec errors, secrets, lint."""
from __future__ import annotations

import json
import re

import promql_parser
import pytest

from modeldash.alerts import build as A
from modeldash.dashboards.panel_keys import panel_link
from modeldash.spec.fleet import load_spec_data
from modeldash.spec.base import parse_duration
from modeldash.scripts.lint_alerts import lint_alerts

FORBIDDEN = ("kube_hpa_", "kube_pod_container_resource_limits_cpu_cores", "container_memory_usage_bytes",
             'response_code!~"2.."')
ISSUE_ALERTS = {
    "HighNodeCPUUsage", "HighNodeMemoryUsage", "NodeDiskAlmostFull", "NodeNotReady", "PodNotRunning",
    "PodCrashLooping", "FrequentPodRestarts", "DeploymentReplicasMismatch", "HPAMaxedOut", "ContainerNearCPULimit",
    "ContainerNearMemoryLimit", "ModelLatencyP95High", "ModelLatencyP95Critical", "ModelErrorRateHigh",
    "ModelTrafficStopped", "PredictionDistributionShift", "ModelDriftHigh", "ModelQualityDegraded",
    "ModelMonitoringJobStale", "ModelErrorBudgetBurn",
}


@pytest.fixture(scope="module")
def groups(example_spec):
    return A.grafana_rule_groups(example_spec)


@pytest.fixture(scope="module")
def api_rules(groups):
    return [r for g in groups for r in g["rules"]]


def test_every_named_alert_is_generated(example_spec):
    names = {d.name for d in A.alert_definitions(example_spec)}
    assert names == ISSUE_ALERTS


def test_every_api_rule_validates_against_the_grafana_schema(groups, api_rules):
    from modeldash.scripts.lint_alerts import _grafana_validator

    validator = _grafana_validator("Rule")
    for rule in api_rules:
        errors = [e.message for e in validator.iter_errors(rule)]
        assert errors == [], (rule["uid"], errors)
    assert lint_alerts({"alerts/grafana-rule-groups.json": json.dumps(groups)}) == []


def test_groups_per_layer_namespace_and_model_with_10s_multiple_intervals(example_spec, groups):
    titles = {g["title"] for g in groups}
    assert titles == {"modeldash-infrastructure"} | {
        f"modeldash-platform-{m.namespace}" for m in example_spec.models} | {
        f"modeldash-model-{m.name}" for m in example_spec.models}
    for g in groups:
        assert isinstance(g["interval"], int) and g["interval"] > 0 and g["interval"] % 10 == 0
        assert g["folderUid"] == example_spec.folder_uid
        assert all(r["ruleGroup"] == g["title"] and r["folderUID"] == example_spec.folder_uid for r in g["rules"])


def test_uids_stable_unique_and_well_formed(example_spec, api_rules):
    uids = A.rule_uids(example_spec)
    assert uids == A.rule_uids(example_spec)
    assert len(set(uids)) == len(uids) == len(api_rules)
    assert {r["uid"] for r in api_rules} == set(uids)
    for uid in uids:
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]{0,38}[a-z0-9]", uid), uid


def test_queries_are_prometheus_reduce_threshold_not_classic(example_spec, api_rules):
    for rule in api_rules:
        a, b, c = rule["data"]
        assert (a["refId"], b["refId"], c["refId"]) == ("A", "B", "C") and rule["condition"] == "C"
        assert a["datasourceUid"] == example_spec.datasource.uid
        promql_parser.parse(a["model"]["expr"])
        assert b["datasourceUid"] == c["datasourceUid"] == "__expr__"
        assert b["model"]["type"] == "reduce" and b["model"]["expression"] == "A"
        assert c["model"]["type"] in ("threshold", "math")
        assert "classic_conditions" not in json.dumps(rule)


def _grafana_condition(rule) -> tuple[str, float]:
    model = rule["data"][2]["model"]
    if model["type"] == "threshold":
        ev = model["conditions"][0]["evaluator"]
        return {"gt": ">", "lt": "<"}[ev["type"]], float(ev["params"][0])
    m = re.fullmatch(r"\$B (>=|<=) (\S+)", model["expression"])
    return m.group(1), float(m.group(2))


def test_grafana_rule_and_prometheus_twin_share_query_threshold_and_for(example_spec, api_rules):
    prom = {}
    for g in A.prometheus_rules(example_spec)["groups"]:
        for r in g["rules"]:
            if "alert" in r:
                prom.setdefault((g["name"], r["alert"], json.dumps(r["labels"], sort_keys=True)), []).append(r)
    assert sum(map(len, prom.values())) == len(api_rules)
    for rule in api_rules:
        name = rule["title"].split(" ")[0]
        twins = prom[(rule["ruleGroup"], name, json.dumps(rule["labels"], sort_keys=True))]
        assert len(twins) == 1, rule["uid"]
        twin = twins[0]
        op, threshold = _grafana_condition(rule)
        m = re.fullmatch(r"\((.*)\) (>|<|>=|<=) (\S+)", twin["expr"], re.S)
        assert m, twin["expr"]
        assert m.group(1) == rule["data"][0]["model"]["expr"], rule["uid"]
        assert m.group(2) == op and float(m.group(3)) == threshold, rule["uid"]
        assert parse_duration(twin["for"]) == parse_duration(rule["for"]), rule["uid"]


def test_per_model_alerts_carry_labels_annotations_and_panel_link(example_spec):
    for d in A.alert_definitions(example_spec):
        assert d.labels["severity"] in ("warning", "critical")
        assert d.labels["managed_by"] == "modeldash" and d.labels["team"]
        if d.model:
            m = next(x for x in example_spec.models if x.name == d.model)
            assert d.labels["model"] == m.name and d.labels["namespace"] == m.namespace
            assert d.labels["team"] == example_spec.team_of(m)
            assert d.panel[0] == panel_link("model", "serving.latency", m.name)[0]
        # burn-rate alerts: which alternative fired is not in the value; the linked panel shows every window
        assert "{value}" in d.description or d.name in ("PodNotRunning", "PodCrashLooping", "NodeNotReady",
                                                        "ModelErrorBudgetBurn")
        assert d.runbook_url.startswith("https://")
    rule = next(r for g in A.grafana_rule_groups(example_spec) for r in g["rules"]
                if r["uid"] == "md-modellatencyp95high-fraud-detector")
    assert (rule["annotations"]["__dashboardUid__"], int(rule["annotations"]["__panelId__"])) == \
        panel_link("model", "serving.latency", "fraud-detector")
    assert "$values.B.Value" in rule["annotations"]["description"]


def test_latency_alerts_read_recorded_seconds(example_spec):
    by = {(d.name, d.model): d for d in A.alert_definitions(example_spec)}
    recs = {(r.record, r.labels["model"]): r for r in A.recording_rules(example_spec)}
    fraud = by[("ModelLatencyP95High", "fraud-detector")]  # knative-legacy: a millisecond histogram
    assert fraud.threshold == 0.5 and fraud.expr == \
        'model:request_latency_seconds:p95_5m{model="fraud-detector", namespace="fraud"}'
    assert "revision_request_latencies_bucket" in recs[(A.RECORDED_LATENCY_P95, "fraud-detector")].expr
    assert fraud.summary == "p95 latency of fraud-detector above 500 ms" and fraud.value_format == "duration"
    price = by[("ModelLatencyP95High", "price-regressor")]  # kserve model server: seconds
    assert price.threshold == 0.2 and by[("ModelLatencyP95Critical", "price-regressor")].threshold == 0.8
    # the value prints as a duration, so it reads right whatever the histogram's unit
    rule = next(r for g in A.prometheus_rules(example_spec)["groups"] for r in g["rules"]
                if r.get("alert") == "ModelLatencyP95High")
    assert "$value | humanizeDuration" in rule["annotations"]["description"]


def test_error_and_traffic_alerts_read_recorded_series(example_spec):
    for d in A.alert_definitions(example_spec):
        if d.name == "ModelErrorRateHigh":
            assert d.expr == f'{A.RECORDED_ERROR_RATIO}{{model="{d.model}", namespace="{d.namespace}"}}'
        if d.name == "ModelTrafficStopped":
            # sum() first: the recorded series has labels, a bare `or vector(0)` would add a second series
            assert d.expr.startswith(f'(sum({A.RECORDED_REQUEST_RATE}{{model="{d.model}", namespace="{d.namespace}"}}) '
                                     "or vector(0)) and on () (")


def test_traffic_stopped_fires_on_vanished_series_and_nodata_choices(example_spec):
    for d in A.alert_definitions(example_spec):
        assert d.exec_err_state == "Error"
        if d.name == "ModelTrafficStopped":
            assert "or vector(0)" in d.expr and d.op == "<=" and d.no_data_state == "OK"
        if d.name == "ModelMonitoringJobStale":
            assert "absent(" in d.expr and d.no_data_state == "Alerting"
        if d.layer == "infrastructure":
            assert d.no_data_state == "NoData"
        if d.name == "PodNotRunning":
            assert 'phase=~"Pending|Unknown|Failed"' in d.expr and 'owner_kind="Job"' in d.expr


def test_job_stale_uses_two_periods_and_follows_enabled_jobs(example_data):
    spec = load_spec_data(example_data, "t")
    stale = {(d.model, d.key): d for d in A.alert_definitions(spec) if d.name == "ModelMonitoringJobStale"}
    assert stale[("fraud-detector", "drift")].threshold == 2 * spec.jobs.drift.period
    assert stale[("fraud-detector", "quality")].threshold == 2 * spec.jobs.quality.period
    assert ("churn-classifier", "quality") not in stale  # no ground truth, no quality job
    example_data["jobs"] = {"drift": {"enabled": False}}
    spec = load_spec_data(example_data, "t")
    assert {d.key for d in A.alert_definitions(spec) if d.name == "ModelMonitoringJobStale"} == {"quality"}


def test_error_alert_skipped_without_status_codes(example_data):
    example_data["models"][2].pop("error_backend")  # kserve model server has no status codes
    example_data["models"][2]["slo"] = {"availability": None}  # which an availability objective needs
    spec = load_spec_data(example_data, "t")
    defs, skipped = A.build_catalog(spec)
    assert not [d for d in defs if d.name == "ModelErrorRateHigh" and d.model == "price-regressor"]
    assert any(a == "ModelErrorRateHigh" and m == "price-regressor" for a, m, _ in skipped)


def test_forbidden_outdated_metric_names_never_appear(example_spec):
    texts = [json.dumps(A.grafana_rule_groups(example_spec)), json.dumps(A.prometheus_rules(example_spec)),
             json.dumps(A.promtool_tests(example_spec)), json.dumps(A.grafana_alerting_provisioning(example_spec))]
    for text in texts:
        for bad in FORBIDDEN:
            assert bad not in text


def test_example_labels_satisfy_the_selector_and_are_a_fresh_dict_each_call():
    from modeldash.alerts.scenarios import example_labels

    sel = 'http_requests_total{namespace="ns", pod=~"fraud-predictor(-.*)?", code!="500", le!~"x"}'
    first = example_labels(sel, le="0.5")
    assert first == {"__name__": "http_requests_total", "namespace": "ns", "pod": "fraud-predictor", "le": "0.5"}
    assert list(first) == ["__name__", "namespace", "pod", "le"]
    first["namespace"] = "changed"
    first["extra"] = "1"
    again = example_labels(sel)  # the parse is cached; what a caller did to its dict is not
    assert again == {"__name__": "http_requests_total", "namespace": "ns", "pod": "fraud-predictor"}
    assert again is not example_labels(sel)
    assert example_labels('{job="a"}') == {"job": "a"}
    with pytest.raises(ValueError):
        example_labels('m{pod=~"a[0-9]+b"}')


def _labels_as_parsed(selector: str) -> dict:
    """example_labels read straight off promql_parser (what the shape cache must agree with)."""
    from modeldash.alerts.scenarios import _regex_example

    sel = promql_parser.parse(selector)
    labels = {"__name__": sel.name} if sel.name else {}
    for m in sel.matchers.matchers:
        op = str(m.op).rsplit(".", 1)[-1]
        if op == "Equal":
            labels[m.name] = m.value
        elif op == "Re":
            labels[m.name] = _regex_example(m.value)
    return labels


@pytest.mark.parametrize("selector", [
    'revision_request_count{namespace_name="team-00", configuration_name="model-0000-predictor"}',
    'kn_count{ns="team-01", rev=~"model-0001-predictor-.*", code=~"5.."}',
    'm{pod=~"m1-predictor(-.*)?", a!="", b!="x", c!~"a|b", d=~".*"}',
    'm{a="x0", b=~"x1", c="x0"}',  # values that look like stand-ins
    'm{a = "b" , a="c",}', 'm{a="q\\"uote"}', "m{a='single'}", 'm{a="v"} # a="comment"',
    '{__name__="m", a="b"}', '{a="b"}', 'm{a=~"abc|def", b=~"x.y"}', 'm{a=~"(x|y)z+"}', '{a=""}',
])
def test_example_labels_of_a_shape_agree_with_the_parser(selector):
    from modeldash.alerts.scenarios import example_labels

    def outcome(fn):
        try:
            labels = fn(selector)
        except ValueError as exc:  # no example value, or a selector the parser refuses
            return type(exc)
        return list(labels.items())

    assert outcome(example_labels) == outcome(_labels_as_parsed)


def test_selectors_of_one_template_share_one_parse():
    from modeldash.alerts.scenarios import _selector_shape

    a = _selector_shape('m{ns="team-00", pod=~"model-0000-predictor-.*", code=~"5.."}')
    b = _selector_shape('m{ns="team-01", pod=~"model-0001-predictor-.*", code=~"5.."}')
    assert a[0] == b[0] and a[1] != b[1]
    assert _selector_shape('m{a=~".*"}') == ('m{a=~".*"}', {})  # matches the empty string: kept
    assert _selector_shape('m{a=~"[0-9]+"}') == ('m{a=~"[0-9]+"}', {})  # might not compile: kept


def test_recording_rules_normalised_to_seconds(example_spec):
    every = A.recording_rules(example_spec)
    recs = {(r.record, r.labels["model"]): r for r in every if r.record in A.RECORDED_NAMES}
    for r in every:  # the fleet view's constant model:info / model:threshold series too
        promql_parser.parse(r.expr)
    assert recs[(A.RECORDED_LATENCY_P95, "fraud-detector")].expr.endswith(" * 0.001")  # ms histogram
    assert "* 0.001" not in recs[(A.RECORDED_LATENCY_P95, "churn-classifier")].expr
    for (_, model), r in recs.items():
        assert set(r.labels) == {"model", "namespace"}
        promql_parser.parse(r.expr)
    assert {n for n, _ in recs} == set(A.RECORDED_NAMES)


def test_prometheus_rule_manifests_validate_against_the_crd(example_spec):
    manifests = A.prometheus_rule_manifests(example_spec, release="my-stack")
    assert manifests and all(m["metadata"]["labels"]["release"] == "my-stack" for m in manifests)
    assert lint_alerts(manifests) == []
    default = A.prometheus_rule_manifests(example_spec)
    assert default[0]["metadata"]["labels"]["release"] == example_spec.kubernetes.release
    assert default[0]["metadata"]["namespace"] == "monitoring"


def test_lint_catches_broken_alert_objects(example_spec):
    groups = A.grafana_rule_groups(example_spec)
    bad = json.loads(json.dumps(groups[0]))
    bad["interval"] = 15
    bad["rules"][0]["uid"] = "Bad_UID-"
    bad["rules"][0]["data"][0]["model"]["expr"] = "sum(rate(x[5m])"
    bad["rules"][0]["data"][2]["model"]["type"] = "classic_conditions"
    bad["rules"][0]["noDataState"] = "Maybe"
    problems = "\n".join(lint_alerts([bad]))
    for needle in ("multiple of 10s", "uid 'Bad_UID-'", "does not parse", "classic_conditions", "noDataState"):
        assert needle in problems
    manifest = A.prometheus_rule_manifests(example_spec)[1]
    manifest["spec"]["groups"][0]["rules"][0]["for"] = "5 minutes"
    assert any("for" in p for p in lint_alerts([manifest]))


def test_contact_points_and_policy_validate_and_route_by_severity_and_team(example_spec):
    from modeldash.scripts.lint_alerts import _grafana_validator

    cps = A.contact_points(example_spec)
    for cp in cps:
        assert list(_grafana_validator("ContactPoint").iter_errors(cp)) == []
    slack = [cp for cp in cps if cp["type"] == "slack"]
    assert all(cp["settings"]["url"].startswith("$") for cp in slack)
    policy = A.notification_policy_subtree(example_spec)
    assert list(_grafana_validator("NotificationPolicy").iter_errors(policy)) == []
    assert policy["object_matchers"] == [["managed_by", "=", "modeldash"]]
    routes = [(r["object_matchers"], r["receiver"]) for r in policy["routes"]]
    assert routes[0] == ([["team", "=", "risk"], ["severity", "=", "critical"]], "risk-oncall")
    assert ([["severity", "=", "warning"]], "ml-slack") in routes
    assert ([["severity", "=", "critical"]], "ml-oncall") in routes
    oncall = {cp["type"] for cp in cps if cp["name"] == "ml-oncall"}
    assert oncall == {"slack", "email"}  # critical: Slack and email
    prov = A.grafana_alerting_provisioning(example_spec)
    assert prov["apiVersion"] == 1 and "deleteRules" not in prov
    assert prov["policies"][0]["routes"][0] == policy
    for g in prov["groups"]:
        assert g["folder"] == example_spec.grafana.folder and parse_duration(g["interval"]) % 10 == 0


# --------------------------------------------------------------------------- spec errors


def _alerting(data, **changes):
    data["alerting"].update(changes)
    return data


@pytest.mark.parametrize("mutate, field, words", [
    (lambda d: _alerting(d, interval="15s"), "alerting.interval", "multiple of 10s"),
    (lambda d: _alerting(d, interval="soon"), "alerting.interval", "not a duration"),
    (lambda d: d["alerting"]["routes"]["severity"].update(critical="pagerduty"),
     "alerting.routes.severity.critical", "unknown receiver 'pagerduty'"),
    (lambda d: d["alerting"]["routes"].update(teams={"risk": {"warning": "nobody"}}),
     "alerting.routes.teams.risk.warning", "unknown receiver"),
    (lambda d: d["models"][0].setdefault("thresholds", {}).update(error_ratio={"critical": -0.1}),
     "models[0].thresholds.error_ratio.critical", ""),
    (lambda d: d["models"][0].setdefault("thresholds", {}).update(drift={"threshold": -1}),
     "models[0].thresholds.drift.threshold", "negative"),
    (lambda d: d["models"][0].setdefault("thresholds", {}).update(latency_p95={"for": "five minutes"}),
     "models[0].thresholds.latency_p95.for", "not a duration"),
    (lambda d: d["alerting"]["receivers"].append({"name": "empty"}), "alerting.receivers[3]", "at least one"),
])
def test_bad_alert_settings_exit_2_naming_the_field(cli, example_data, write_spec, tmp_path, mutate, field, words):
    mutate(example_data)
    result = cli("render", write_spec(example_data), "-o", tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert f": {field}" in result.output and words in result.output
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


SECRET = "https://hooks.slack.com/services/T000/B000/SUPERSECRET"


@pytest.mark.parametrize("where, key, value, hint", [
    ("slack", "webhook_url", SECRET, "webhook_url_env"),
    ("email", "password", "hunter2-SUPERSECRET", "password_file"),
    ("webhook", "url", "https://user:SUPERSECRET@bridge.example.com/x", "url_env"),
])
def test_inline_secret_rejected_with_how_to_reference_it(cli, example_data, write_spec, tmp_path, where, key, value,
                                                          hint):
    rec = example_data["alerting"]["receivers"][1 if where != "webhook" else 2]
    rec[where][key] = value
    if where == "webhook":
        rec[where].pop("bearer_token_env")
    result = cli("render", write_spec(example_data), "-o", tmp_path / "out")
    assert result.exit_code == 2
    assert hint in result.output and ("Alertmanager" in result.output)
    assert "SUPERSECRET" not in result.output


def test_no_secret_value_in_rendered_output(cli, tmp_path, monkeypatch):
    for env in ("SLACK_ML_ALERTS_WEBHOOK_URL", "SLACK_ML_ONCALL_WEBHOOK_URL", "GF_SMTP_PASSWORD", "RISK_BRIDGE_TOKEN"):
        monkeypatch.setenv(env, f"SUPERSECRET-{env}")
    out = tmp_path / "out"
    result = cli("render", "-o", out)
    assert result.exit_code == 0, result.output
    assert "SUPERSECRET" not in result.output
    texts = [p.read_text() for p in out.rglob("*") if p.is_file()]
    assert texts and not any("SUPERSECRET" in t or "hooks.slack.com" in t for t in texts)
    am = (out / "alertmanager" / "alertmanager.yaml").read_text()
    assert "api_url_file:" in am and "auth_password_file:" in am and "api_url:" not in am
    assert "$SLACK_ML_ALERTS_WEBHOOK_URL" in (out / "alerts" / "grafana-alerting.yaml").read_text()
    manifest = json.loads((out / ".modeldash-manifest.json").read_text())
    assert manifest["alert_rule_uids"] == sorted(A.rule_uids(load_spec_data(
        __import__("yaml").safe_load((__import__("pathlib").Path(__file__).parent.parent / "examples" / "fleet.yaml")
                                     .read_text()), "x")))
    assert lint_alerts(out) == []
