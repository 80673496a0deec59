"""lint_manifests finds what the API server, kustomize and the CRD schemas would refuse."""
from __future__ import annotations

import copy

import pytest
import yaml

from k8s_helpers import spec
from modeldash.k8s import manifests as km
from modeldash.scripts.lint_k8s import lint_manifests
from modeldash.scripts.output_k8s import kustomization_file
from modeldash.scripts.serialise import dumps_yaml as dump_yaml


def _files(*manifests: dict) -> dict[str, str]:
    files = {f"k8s/m{i}.yaml": dump_yaml(m) for i, m in enumerate(manifests)}
    files["k8s/kustomization.yaml"] = kustomization_file(files)
    return files


def _monitor() -> dict:
    fleet = spec()
    return km.model_monitor(fleet, fleet.models[0])


def test_a_clean_monitor_passes():
    assert lint_manifests(_files(_monitor())) == []


@pytest.mark.parametrize(
    "mutate, words",
    [
        (lambda m: m["metadata"].update(name="Model_Monitor"), "metadata.name 'Model_Monitor' is not a DNS-1123 label"),
        (lambda m: m["metadata"].update(name="m" * 64), "is not a DNS-1123 label"),
        (lambda m: m["metadata"].update(namespace="Mon"), "metadata.namespace 'Mon'"),
        (lambda m: m["metadata"].pop("namespace"), "metadata.namespace is missing"),
        (lambda m: m["metadata"]["labels"].update(team="x" * 64), "label value"),
        (lambda m: m["metadata"]["labels"].update({"bad key": "x"}), "'bad key' is not a Kubernetes label key"),
        (lambda m: m.update(apiVersion="monitoring.coreos.com"), "apiVersion 'monitoring.coreos.com'"),
        (lambda m: m.update(apiVersion="monitoring.coreos.com/v9"), "not a version of the CRD"),
        (lambda m: m.pop("kind"), "kind None"),
        (lambda m: m.pop("metadata"), "metadata is missing"),
        # CRD schema: portNumber is an integer, podMetricsEndpoints a list, selector required
        (lambda m: m["spec"]["podMetricsEndpoints"][0].update(portNumber="9091"), "spec.podMetricsEndpoints.0.portNumber"),
        (lambda m: m["spec"].update(podMetricsEndpoints={"port": 1}), "spec.podMetricsEndpoints"),
        (lambda m: m["spec"].pop("selector"), "'selector' is a required property"),
        (lambda m: m["spec"]["podMetricsEndpoints"][0].update(scheme="ftp"), "scheme"),
    ],
)
def test_each_broken_monitor_is_reported(mutate, words):
    m = _monitor()
    mutate(m)
    problems = lint_manifests(_files(m))
    assert any(words in p for p in problems), problems
    assert all(p.startswith("k8s/m0.yaml: ") for p in problems)


def test_prometheus_rule_and_service_monitor_schemas():
    fleet = spec()
    good_rule = km.prometheus_rule(fleet, {
        "apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": {"name": "r"},
        "spec": {"groups": [{"name": "g", "rules": [{"alert": "A", "expr": "up == 0", "for": "5m"}]}]},
    })
    fleet = spec(endpoints={"fraud-detector": {"kind": "ServiceMonitor", "port_name": "metrics"}})
    pgw = km.model_monitor(fleet, fleet.models[0])  # a ServiceMonitor through the per-model override
    assert pgw["kind"] == "ServiceMonitor"
    assert lint_manifests(_files(good_rule, pgw)) == []
    bad_rule = copy.deepcopy(good_rule)
    del bad_rule["spec"]["groups"][0]["rules"][0]["expr"]
    bad_pgw = copy.deepcopy(pgw)
    bad_pgw["spec"]["endpoints"][0]["honorLabels"] = "yes"  # a boolean in the CRD
    problems = lint_manifests(_files(bad_rule, bad_pgw))
    assert any(p.startswith("k8s/m0.yaml: PrometheusRule schema: spec.groups.0.rules.0") and "'expr'" in p for p in problems)
    assert any(p.startswith("k8s/m1.yaml: ServiceMonitor schema: spec.endpoints.0.honorLabels") for p in problems)


def test_configmap_keys_duplicates_and_kustomization():
    fleet = spec()
    cm = km.configmap(fleet, "cm", {"bad/key.json": "{}"}, {"grafana_dashboard": "1"})
    problems = lint_manifests(_files(cm, cm))
    assert any("data key 'bad/key.json'" in p for p in problems)
    assert any("k8s/m1.yaml: ConfigMap cm is also defined in k8s/m0.yaml" in p for p in problems)
    files = _files(_monitor())
    files["k8s/extra.yaml"] = dump_yaml(_monitor() | {"metadata": {**_monitor()["metadata"], "name": "other"}})
    assert lint_manifests(files) == ["k8s/kustomization.yaml: does not list 'extra.yaml'"]
    del files["k8s/kustomization.yaml"]
    assert lint_manifests(files)[-1] == "k8s/kustomization.yaml: missing (kubectl apply -k needs it)"


def test_oversized_configmap_data_is_reported():
    cm = km.configmap(spec(), "big", {"a.json": "x" * (km.CONFIGMAP_DATA_LIMIT + 1)}, {})
    problems = lint_manifests(_files(cm))
    assert any("over the 1 MiB limit" in p for p in problems)


def test_broken_yaml_is_a_problem_not_a_crash():
    files = _files(_monitor())
    files["k8s/m0.yaml"] = "kind: [unclosed\n"
    assert any(p.startswith("k8s/m0.yaml: not valid YAML") for p in lint_manifests(files))
    files["k8s/m0.yaml"] = yaml.safe_dump(["a list"])
    assert any("not a Kubernetes object" in p for p in lint_manifests(files))


def test_cronjob_names_leave_room_for_the_job_suffix():
    cron = {"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "c" * 53, "namespace": "monitoring"}, "spec": {}}
    assert any("longer than 52" in p for p in lint_manifests(_files(cron)))
    cron["metadata"]["name"] = "c" * 52
    assert lint_manifests(_files(cron)) == []


def test_objects_render_already_built_are_linted_without_parsing_again():
    files = _files(_monitor())
    bad = _monitor()
    bad["metadata"]["name"] = "Bad_Name"
    assert lint_manifests(files) == []
    assert any("'Bad_Name'" in p for p in lint_manifests(files, {"k8s/m0.yaml": bad}))


def test_lint_warns_when_the_datasource_is_the_charts_own_and_notes_url_file(cli, example_data, write_spec, tmp_path):
    """Warnings, not failures (issue 11): the example does not collide; the chart's name/uid and
    a url_file webhook are each one line on stderr, and lint still exits 0."""

    def warnings(result):
        return [ln for ln in result.output.splitlines() if ln.startswith(("warning:", "note:"))]

    result = cli("lint", write_spec(example_data, "example.yaml"))
    assert result.exit_code == 0 and warnings(result) == [], result.output
    example_data["datasource"].update(name="Prometheus", uid="prometheus")
    example_data["alerting"]["receivers"][2]["webhook"] = {"url_env": "RISK_URL", "url_file": "/etc/am/risk-url"}
    spec_path = write_spec(example_data, "chart.yaml")
    result = cli("lint", spec_path)
    lines = warnings(result)
    assert result.exit_code == 0, result.output
    rendered = cli("render", spec_path, "-o", tmp_path / "out")
    assert rendered.exit_code == 0 and warnings(rendered) == lines
    assert lines == [
        "warning: k8s/datasources/prometheus.yaml: datasource name 'Prometheus', uid 'prometheus': the same as "
        "kube-prometheus-stack's own default datasource, so the sidecar provisions one datasource twice; give yours "
        "another datasource.name and datasource.uid in the spec (e.g. modeldash-prometheus)",
        "note: alertmanager/alertmanager.yaml: receiver 'risk-oncall' uses webhook url_file, which needs "
        "Alertmanager >= 0.26 (older ones reject the whole config); a plain url (no credentials) works with any version",
    ], result.output
