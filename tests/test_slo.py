"""Objectives: spec validation, the layered recording rules, burn-rate alerts, panels, promtool cases."""
from __future__ import annotations

import subprocess

import pytest
import yaml

from modeldash.alerts import slo_rules as sr
from modeldash.alerts.build import alert_definitions, grafana_rule_groups, prometheus_rules, promtool_tests
from modeldash.alerts.prometheus_rules import promtool_suite
from modeldash.alerts.slo_scenarios import _rate
from modeldash.dashboards.build import build_dashboards
from modeldash.datasources.slo import BUCKETS
from modeldash.spec.fleet import SpecError, load_spec_data


def _model(**kw):
    return {"name": "m", "namespace": "ns", "task": "regression", **kw}


def _spec(default_slo=None, backend="knative-legacy", **model):
    data = {"defaults": {"backend": backend}, "models": [_model(**model)]}
    if default_slo is not None:
        data["defaults"]["slo"] = default_slo
    return load_spec_data(data, "fleet.yaml")


BAD = [
    ({"availability": 1.0}, "models[0].slo.availability", "strictly between 0 and 1"),
    ({"availability": 0}, "models[0].slo.availability", "strictly between 0 and 1"),
    ({"window": "4 weeks", "availability": 0.99}, "models[0].slo.window", "not a duration"),
    ({"window": "2d", "availability": 0.99}, "models[0].slo", "longer than the budget window"),
    ({"latency": {"threshold": "500ms", "target": 1.5}}, "models[0].slo.latency.target", "between 0 and 1"),
    ({"latency": {"threshold": "550ms", "target": 0.99}}, "models[0].slo.latency.threshold",
     "nearest boundaries: 500ms and 600ms"),
    ({"availability": 0.99, "alerts": {"page": [{"factor": 2, "long": "1h", "short": "5m"}]}},
     "models[0].slo.alerts", "every page factor must exceed every ticket factor"),
    ({"availability": 0.99, "alerts": {"page": [{"factor": 14.4, "long": "5m", "short": "1h"}]}},
     "models[0].slo.alerts.page[0]", "must be shorter"),
    ({"availability": 0.99, "typo": 1}, "models[0].slo.typo", "unknown key"),
]


@pytest.mark.parametrize("slo,field,words", BAD, ids=[w for _, _, w in BAD])
def test_bad_objectives_name_the_field(slo, field, words):
    with pytest.raises(SpecError) as exc:
        _spec(slo=slo)  # on the model itself
    assert (exc.value.field, words in exc.value.reason) == (field, True), str(exc.value)


def test_threshold_must_be_a_boundary_of_the_models_own_backend():
    lat = {"latency": {"threshold": "500ms", "target": 0.99}}
    for backend in BUCKETS:  # 500 ms is a boundary of every default set
        _spec(lat, backend=backend, error_backend="istio")
    with pytest.raises(SpecError) as exc:  # 300 ms is one of Knative <= 1.18's, not of KServe's
        _spec({"latency": {"threshold": "300ms", "target": 0.99}}, backend="kserve")
    assert "nearest boundaries: 250ms and 500ms" in exc.value.reason
    assert "request_predict_seconds" in exc.value.reason
    declared = {"latency": {"threshold": "300ms", "target": 0.99, "buckets": ["100ms", "300ms", "1s"]}}
    assert _spec(declared, backend="kserve").models[0].slo.latency.threshold == pytest.approx(0.3)


def test_availability_needs_a_status_code_source():
    with pytest.raises(SpecError) as exc:
        _spec({"availability": 0.999}, backend="kserve")
    assert exc.value.field == "models[0].slo.availability" and "error_backend" in exc.value.reason
    assert _spec({"availability": 0.999}, backend="kserve", error_backend="istio").models[0].slo


def test_models_inherit_and_override_objectives_key_by_key():
    data = {"defaults": {"backend": "istio", "slo": {"availability": 0.999, "latency": {"threshold": "1s", "target": 0.95}}},
            "models": [_model(name="a"), _model(name="b", slo={"latency": {"target": 0.9}}),
                       _model(name="c", slo=None), _model(name="d", slo={"availability": None})]}
    a, b, c, d = load_spec_data(data, "f").models
    assert (a.slo.availability, a.slo.latency.target, a.slo.window_text) == (0.999, 0.95, "28d")
    assert (b.slo.availability, b.slo.latency.threshold, b.slo.latency.target) == (0.999, 1.0, 0.9)
    assert c.slo is None
    assert d.slo.availability is None and d.slo.latency is not None


def test_bad_threshold_is_one_line_exit_2(cli, write_spec, tmp_path):
    data = {"defaults": {"backend": "knative-legacy", "slo": {"latency": {"threshold": "550ms", "target": 0.99}}},
            "models": [_model()]}
    result = cli("render", write_spec(data), "-o", tmp_path / "out")
    assert result.exit_code == 2
    line = result.output.strip()
    assert "\n" not in line and "models[0].slo.latency.threshold" in line and "500ms and 600ms" in line
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- rules


def _rules(spec):
    return {g["name"]: g["rules"] for g in prometheus_rules(spec)["groups"]}


def test_layered_rules_per_objective(example_spec):
    groups = _rules(example_spec)
    names = list(groups)
    assert names.index("modeldash-slo-fraud-detector") < min(i for i, n in enumerate(names)
                                                              if n.startswith("modeldash-model-"))
    rules = groups["modeldash-slo-fraud-detector"]
    avail = [r for r in rules if r["labels"]["slo"] == "availability"]
    assert len(avail) == 14  # 2 rates, 8 ratios, objective, budget, burn rates, remaining
    by = {(r["record"], r["labels"].get("slo_window")): r["expr"] for r in avail}
    assert {w for _, w in by if w} == {"5m", "30m", "1h", "2h", "6h", "1d", "3d", "28d"}
    # the shortest window from the recorded rates, the longer alert windows from raw counters once each
    assert by[("model_slo:sli_error:ratio_rate5m", "5m")].startswith("model_slo:sli_error_requests:rate5m{")
    for w in ("30m", "1h", "2h", "6h", "1d", "3d"):
        expr = by[(f"model_slo:sli_error:ratio_rate{w}", w)]
        assert expr.count(f"[{w}]") == 2 and "revision_request_count" in expr
    # the budget window: a ratio of sums of the recorded rates, never an average of ratios
    period = by[("model_slo:sli_error:ratio_rate28d", "28d")]
    assert period == ('sum_over_time(model_slo:sli_error_requests:rate5m{model="fraud-detector", '
                      'slo="availability"}[28d]) / sum_over_time(model_slo:sli_requests:rate5m'
                      '{model="fraud-detector", slo="availability"}[28d])')
    assert "avg_over_time" not in str(rules) and "count_over_time" not in str(rules)
    assert by[("model_slo:objective:ratio", None)] == "vector(0.999)"
    assert by[("model_slo:error_budget:ratio", None)] == "vector(0.001)"
    assert by[("model_slo:error_budget_remaining:ratio", "28d")].startswith("1 - model_slo:burn_rate:ratio{")


def test_latency_sli_counts_requests_slower_than_the_bucket(example_spec):
    rules = _rules(example_spec)["modeldash-slo-price-regressor"]
    bad = next(r for r in rules if r["labels"]["slo"] == "latency" and r["record"].startswith("model_slo:sli_error_req"))
    assert bad["expr"] == ('sum (rate(request_predict_seconds_count{namespace="pricing", model_name="price-regressor"}'
                           '[5m])) - sum (rate(request_predict_seconds_bucket{namespace="pricing", '
                           'model_name="price-regressor", le="0.5"}[5m]))')
    fraud = _rules(example_spec)["modeldash-slo-fraud-detector"]
    assert any('le=~"500(\\\\.0)?"' in r["expr"] for r in fraud)  # ms histogram; 500 or 500.0


def test_rule_counts_with_and_without_objectives(example_data):
    with_slo = load_spec_data(example_data, "f")
    example_data["defaults"].pop("slo")
    without = load_spec_data(example_data, "f")
    count = lambda s: sum(len(g["rules"]) for g in prometheus_rules(s)["groups"])  # noqa: E731
    # per model: 14 recording rules per objective and a page and a ticket alert per objective
    assert count(with_slo) - count(without) == 3 * 2 * (14 + 2)


def test_page_and_ticket_twins_from_one_definition(example_spec):
    defs = [d for d in alert_definitions(example_spec) if d.name == sr.ALERT]
    assert len(defs) == 3 * 2 * 2
    page = next(d for d in defs if d.model == "fraud-detector" and d.key == "availability-page")
    ticket = next(d for d in defs if d.model == "fraud-detector" and d.key == "availability-ticket")
    assert (page.labels["severity"], ticket.labels["severity"]) == ("critical", "warning")
    for factor, w in ((14.4, "1h"), (14.4, "5m"), (6, "6h"), (6, "30m")):
        assert f'slo_window="{w}"}} > {factor})' in page.expr
    for factor, w in ((3, "1d"), (3, "2h"), (1, "3d"), (1, "6h")):
        assert f'slo_window="{w}"}} > {factor})' in ticket.expr
    grafana = {r["uid"]: r for g in grafana_rule_groups(example_spec) for r in g["rules"]}
    prom = [r for g in prometheus_rules(example_spec)["groups"] for r in g["rules"]
            if r.get("alert") == sr.ALERT and r["labels"]["model"] == "fraud-detector"
            and r["labels"]["slo_alert"] == "page" and r["labels"]["slo"] == "availability"]
    assert grafana[page.uid]["data"][0]["model"]["expr"] == page.expr
    assert prom[0]["expr"] == f"({page.expr}) > 0"
    assert grafana[page.uid]["labels"] == prom[0]["labels"]


def test_overridden_factors_and_windows_reach_rules_and_panels():
    slo = {"availability": 0.99, "window": "7d",
           "alerts": {"page": [{"factor": 10, "long": "30m", "short": "3m"}],
                      "ticket": [{"factor": 2, "long": "6h", "short": "30m"}]}}
    spec = _spec(slo)
    rules = _rules(spec)["modeldash-slo-m"]
    assert {r["labels"].get("slo_window") for r in rules} - {None} == {"3m", "30m", "6h", "7d"}
    (page,) = [d for d in alert_definitions(spec) if d.name == sr.ALERT and d.key.endswith("page")]
    assert 'slo_window="30m"} > 10)' in page.expr and " or " not in page.expr
    board = next(b.json for b in build_dashboards(spec) if b.uid == "md-model-m")
    burn = next(p for p in board["panels"] if p["title"].startswith("Burn rate"))
    steps = [s["value"] for s in burn["fieldConfig"]["defaults"]["thresholds"]["steps"]]
    assert steps[1:] == [2, 10]
    spent = next(p for p in board["panels"] if p["title"].startswith("Error budget spent"))
    assert spent["timeFrom"] == "7d"


def test_no_objectives_no_slo_rules_panels_or_alerts():
    spec = _spec()
    assert not [g for g in prometheus_rules(spec)["groups"] if g["name"].startswith("modeldash-slo-")]
    assert not [d for d in alert_definitions(spec) if d.name == sr.ALERT]
    board = next(b.json for b in build_dashboards(spec) if b.uid == "md-model-m")
    assert not [p for p in board["panels"] if "budget" in p["title"].lower()]


def test_fleet_panel_is_bounded(example_spec):
    fleet = next(b.json for b in build_dashboards(example_spec) if b.uid == "md-fleet")
    panel = next(p for p in fleet["panels"] if "budget" in p["title"].lower())
    expr = panel["targets"][0]["expr"]
    assert expr.startswith("bottomk(15, min by (model) (") and "model_slo:error_budget_remaining:ratio" in expr
    assert 'model:info{backend=~"$backend", namespace=~"$namespace", team=~"$team"}' in expr  # the fleet filters


# --------------------------------------------------------------------------- promtool cases


def test_rate_replay_matches_prometheus_extrapolation():
    samples = [0.0, 60.0, 120.0, 180.0]  # 1/s, one sample a minute, from zero
    assert _rate(samples, 3, 2, closed=True) == pytest.approx(1.0)
    assert _rate(samples, 1, 5, closed=True) == pytest.approx(60.0 / 300)  # clamped at the zero crossing
    assert _rate(samples, 0, 5, closed=True) is None


def test_generated_cases_cover_fast_slow_blip(example_spec):
    doc = promtool_tests(example_spec)[sr.ALERT]
    names = [t["name"].split(" [")[0] for t in doc["tests"]]
    for objective in ("availability", "latency"):
        assert any(n.startswith(f"{objective}: a fast burn") and "pages within" in n for n in names)
        assert f"{objective}: a slow burn (4.24x) opens a ticket and does not page" in names
        assert any(n.startswith(f"{objective}: a 3-minute blip") for n in names)
    slow = next(t for t in doc["tests"] if "availability: a slow burn" in t["name"])
    firing = [a for a in slow["alert_rule_test"] if a["exp_alerts"]]
    assert firing and all({e["exp_labels"]["slo_alert"] for e in a["exp_alerts"]} == {"ticket"} for a in firing)
    fast = next(t for t in doc["tests"] if "availability: a fast burn" in t["name"])
    assert {e["exp_labels"]["slo_alert"] for a in fast["alert_rule_test"] for e in a["exp_alerts"]} >= {"page"}


def test_generated_burn_rate_tests_pass_promtool(tmp_path):
    """One model keeps the run short; the example's full run is `modeldash test-rules`."""
    spec = _spec({"availability": 0.999, "latency": {"threshold": "500ms", "target": 0.99}})
    (tmp_path / "tests" / "rules").mkdir(parents=True)
    tests, rules = promtool_suite(spec)
    # the test file loads only its own alert's rules and the recordings they read, transitively
    (tmp_path / "tests" / "rules" / f"{sr.ALERT}.yaml").write_text(yaml.safe_dump(rules[sr.ALERT]))
    (tmp_path / "tests" / "t.yaml").write_text(yaml.safe_dump(tests[sr.ALERT]))
    proc = subprocess.run(["promtool", "test", "rules", "t.yaml"], cwd=tmp_path / "tests", capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
