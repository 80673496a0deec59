"""Fleet scale: sharded rule groups stay under every object limit at any size, adding a model
changes few files, the catalogue and dashboards are built once, promtool tests do not grow
with durations, and ``render --only`` writes what it names."""
from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path

import orjson
import pytest

from modeldash.alerts import build as A
from modeldash.alerts.sharding import MAX_RULES
from modeldash.k8s import manifests as km
from modeldash.scripts.output_k8s import render_k8s
from modeldash.spec.fleet import load_spec_data

PROMTOOL = shutil.which("promtool")


def _generators():
    """benchmarks/fleet.py: the same generated fleets the benchmarks render (pure data)."""
    path = Path(__file__).resolve().parent.parent / "benchmarks" / "fleet.py"
    spec = importlib.util.spec_from_file_location("bench_fleet", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


spread_fleet = _generators().spread_fleet_data  # 40 namespaces, 2-5 classes, 5-12 features


def _alert_and_k8s_objects(spec):
    """The alert families and the k8s tree without dashboards (what grows with the fleet's rules)."""
    defs = A.alert_definitions(spec)
    rules = A.prometheus_rules(spec, defs)
    result = render_k8s(spec, [], A.grafana_alerting_provisioning(spec, defs),
                        A.prometheus_rule_manifests(spec, rules=rules), None)
    return defs, A.grafana_rule_groups(spec, defs), result


@pytest.mark.parametrize("n", [1, 30, 1000])
def test_no_object_over_a_limit_with_default_settings(n):
    spec = load_spec_data(spread_fleet(n), "scale.yaml")
    assert spec.kubernetes.server_side_apply is False
    defs, groups, result = _alert_and_k8s_objects(spec)
    assert result.problems == []
    for rel, obj in result.objects.items():
        data, applied = km.configmap_sizes(obj)
        assert applied <= km.CLIENT_SIDE_APPLY_LIMIT, (rel, applied)
        assert data <= km.CONFIGMAP_DATA_LIMIT and applied <= km.ETCD_OBJECT_LIMIT
    for g in groups:  # each Grafana group is one PUT of the sync: bounded in rules and bytes
        assert 1 <= len(g["rules"]) <= MAX_RULES
        assert len(orjson.dumps(g)) < km.CLIENT_SIDE_APPLY_LIMIT, g["title"]
    assert sum(len(g["rules"]) for g in groups) == len(defs)
    if n == 1000:  # the platform group is per namespace, recording rules too: nothing fleet-wide
        names = {g["title"] for g in groups}
        assert "modeldash-platform" not in names and len([x for x in names if x.startswith("modeldash-platform-")]) == 40
        prom = [m for m in result.objects.values() if m["kind"] == "PrometheusRule"]
        recording = [m for m in prom if m["metadata"]["name"].startswith("modeldash-recording-")]
        assert len(recording) >= 40


def test_a_group_too_large_for_one_object_is_cut_into_stable_chunks():
    data = spread_fleet(2, features=150)  # 150 drift rules and more in one model's group
    spec = load_spec_data(data, "wide.yaml")
    defs, groups, result = _alert_and_k8s_objects(spec)
    assert result.problems == []
    model = spec.models[0].name
    mine = [g for g in groups if g["title"].startswith(f"modeldash-model-{model}")]
    assert [g["title"] for g in mine][:2] == [f"modeldash-model-{model}", f"modeldash-model-{model}-2"]
    assert all(len(g["rules"]) <= MAX_RULES for g in mine)
    uids = [r["uid"] for g in mine for r in g["rules"]]
    assert len(uids) == len(set(uids)) == sum(d.model == model for d in defs)


def test_adding_a_model_changes_few_files():
    def alert_files(n):
        spec = load_spec_data(spread_fleet(n), "f.yaml")
        _defs, _groups, result = _alert_and_k8s_objects(spec)
        return {rel: text for rel, text in result.files.items()
                if "/alerting/" in rel or "/prometheus-rules/" in rel}

    before, after = alert_files(30), alert_files(31)
    changed = {rel for rel in after if before.get(rel) != after[rel]}
    # the new model's own group (ConfigMap, provisioning file, PrometheusRule), its namespace's
    # recording rules and (its team joins the namespace) platform group; never another
    # model's or namespace's files
    ns = load_spec_data(spread_fleet(31), "f.yaml").models[30].namespace
    assert 3 <= len(changed) <= 7, sorted(changed)
    assert all("m0030" in rel or rel.endswith(f"-{ns}.yaml") for rel in changed), sorted(changed)


@pytest.mark.parametrize("streaming", [False, True])
def test_catalogue_and_dashboards_built_once_per_render(example_spec, tmp_path, monkeypatch, streaming):
    import modeldash.scripts.output_dashboards as od
    import modeldash.scripts.render_context as rc
    from modeldash.scripts.lint_output import lint_files
    from modeldash.scripts.render import build_files, render_to

    calls = {"catalog": 0, "dashboards": 0}
    import modeldash.scripts.output_k8s as ok

    real_catalog, real_boards, real_iter = rc.A.build_catalog, rc.build_dashboards, od.iter_dashboards

    def counting_catalog(spec):
        calls["catalog"] += 1
        return real_catalog(spec)

    def counting_boards(spec):
        calls["dashboards"] += 1
        return real_boards(spec)

    def counting_iter(spec):
        calls["dashboards"] += 1
        return real_iter(spec)

    monkeypatch.setattr(rc.A, "build_catalog", counting_catalog)
    monkeypatch.setattr(rc, "build_dashboards", counting_boards)
    monkeypatch.setattr(ok, "iter_dashboards", counting_iter)
    monkeypatch.setattr(od, "iter_dashboards", counting_iter)
    monkeypatch.setattr("modeldash.alerts.catalog.build_catalog", counting_catalog)
    if streaming:
        assert render_to(example_spec, tmp_path / "out").problems == []
    else:
        files, ctx = build_files(example_spec, tmp_path / "out")
        assert lint_files(files, example_spec, ctx.parsed) == []
    assert calls == {"catalog": 1, "dashboards": 1}


def test_promtool_tests_stay_small_whatever_the_durations(example_data, monkeypatch):
    """A ``for: 1y`` wrote two 40 MB test files; now 1y and 1000y write the same few hundred KB.

    The spec refuses a ``for`` over 7d; the limits are lifted here to test the generator itself."""
    monkeypatch.setattr("modeldash.spec.base.FOR_MAX", 10**13)
    monkeypatch.setattr("modeldash.spec.base.DURATION_MAX", 10**13)
    size = {}
    for duration in ("5m", "1y", "1000y"):
        for t in example_data["defaults"]["thresholds"].values():
            t["for"] = duration
        tests, rules = A.promtool_suite(load_spec_data(example_data, "f.yaml"))
        size[duration] = sum(len(orjson.dumps(d)) for d in tests.values())
        checks = [len(c["alert_rule_test"]) for d in tests.values() for c in d["tests"]]
        assert max(checks) <= 40  # the SLO burn cases check their fixed windows at ~35 minutes
        assert A.count_cases(tests) >= 101
    assert size["1y"] < 1_000_000 and size["1000y"] < 1_000_000, size
    assert size["1000y"] < 1.5 * size["1y"], size


def test_each_test_file_loads_only_its_alerts_rules(example_spec):
    tests, rules = A.promtool_suite(example_spec)
    assert set(tests) == set(rules)
    for name, doc in tests.items():
        assert doc["rule_files"] == [f"rules/{name}.yaml"]
        alerts = {r["alert"] for g in rules[name]["groups"] for r in g["rules"] if "alert" in r}
        assert alerts == {name.split("-every-")[0]}
        assert all("interval" not in g for g in rules[name]["groups"])  # the test's evaluation_interval rules


@pytest.mark.skipif(PROMTOOL is None, reason="promtool missing")  # `make test` installs it
def test_the_longest_for_the_spec_allows_still_passes_promtool(example_data, tmp_path):
    for t in example_data["defaults"]["thresholds"].values():
        t["for"] = "7d"  # spec.base.FOR_MAX
    spec = load_spec_data(example_data, "f.yaml")
    tests, rules = A.promtool_suite(spec)
    (tmp_path / "rules").mkdir()
    for name in ("ModelLatencyP95High",):  # a rate() over histogram buckets: the hardest to sample sparsely
        assert tests[name]["evaluation_interval"] != "1m"
        (tmp_path / f"{name}.yaml").write_text(json.dumps(tests[name]))
        (tmp_path / "rules" / f"{name}.yaml").write_text(json.dumps(rules[name]))
        proc = subprocess.run([PROMTOOL, "test", "rules", f"{name}.yaml"], cwd=tmp_path, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


def test_render_only_writes_the_named_outputs(cli, tmp_path, example_data, write_spec):
    out = tmp_path / "out"
    result = cli("render", "--only", "dashboards,prometheus-rules", "-o", out)
    assert result.exit_code == 0, result.output
    tops = {p.name for p in out.iterdir()}
    assert tops == {"dashboards", "prometheus", ".modeldash-manifest.json"}
    assert json.loads((out / ".modeldash-manifest.json").read_text())["outputs"] == ["dashboards", "prometheus-rules"]

    example_data["outputs"] = ["k8s"]
    spec = write_spec(example_data)
    result = cli("render", spec, "-o", out)
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == {"k8s", ".modeldash-manifest.json"}
    assert not (out / "k8s" / "jobs").exists() and (out / "k8s" / "kustomization.yaml").exists()
    result = cli("render", spec, "--only", "jobs", "-o", out)  # the option wins over the spec
    assert result.exit_code == 0 and {p.name for p in (out / "k8s").iterdir()} == {"jobs", "kustomization.yaml"}


def test_render_only_refuses_unknown_names(cli, tmp_path, example_data, write_spec):
    result = cli("render", "--only", "dashboards,grafana", "-o", tmp_path / "out")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: --only: unknown output 'grafana'; choose from dashboards, alerts, prometheus-rules, k8s, "
        "provisioning, jobs"]
    assert not (tmp_path / "out").exists()
    example_data["outputs"] = ["dashbords"]
    result = cli("render", write_spec(example_data), "-o", tmp_path / "out")
    assert result.exit_code == 2 and "outputs[0]" in result.output and "Traceback" not in result.output


def test_per_test_rules_are_the_shipped_rules(example_spec):
    """The rules a test file loads are copies of rules.yaml's (same alert, expr, for, labels, annotations)."""
    shipped = [orjson.dumps(r, option=orjson.OPT_SORT_KEYS) for g in A.prometheus_rules(example_spec)["groups"]
               for r in g["rules"]]
    _tests, rules = A.promtool_suite(example_spec)
    copies = [orjson.dumps(r, option=orjson.OPT_SORT_KEYS) for doc in rules.values() for g in doc["groups"]
              for r in g["rules"]]
    assert copies and set(copies) <= set(shipped)


@pytest.mark.parametrize("pattern", ["m0042-predictor(-.*)?", "fraud-detector", "a_b-c(-.*)?", "a.b", "x(-.*)?y",
                                     "fraud-detector-predictor-.*"])
def test_scenario_label_examples_satisfy_their_regex(pattern):
    import re

    from modeldash.alerts.scenarios import _regex_example

    assert re.fullmatch(pattern, _regex_example(pattern))
