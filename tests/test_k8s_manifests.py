"""The k8s/ and provisioning/ trees built in memory: validity, sizes, names, spec overrides."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import yaml

from k8s_helpers import alerting_doc, dashboards, spec, spec_data
from modeldash.k8s import manifests as km
from modeldash.spec.fleet import SpecError, load_spec_data
from modeldash.scripts.lint_k8s import lint_manifests
from modeldash.scripts.output_k8s import kustomization_file, render_k8s

PROM_RULE = {
    "apiVersion": "monitoring.coreos.com/v1",
    "kind": "PrometheusRule",
    "metadata": {"name": "modeldash-models"},
    "spec": {"groups": [{"name": "g", "rules": [{"alert": "A", "expr": "up == 0", "for": "5m"}]}]},
}


def tree(fleet, alerting=True, previous=None):
    result = render_k8s(fleet, dashboards(fleet), alerting_doc(fleet) if alerting else None, [PROM_RULE], previous)
    files = dict(result.files)
    files["k8s/kustomization.yaml"] = kustomization_file(files)
    return result, files


def objects(files) -> dict[str, dict]:
    return {rel: yaml.safe_load(text) for rel, text in files.items() if rel.startswith("k8s/") and rel.endswith(".yaml")}


def test_every_manifest_of_the_example_fleet_validates():
    fleet = spec()
    result, files = tree(fleet)
    assert result.problems == []
    assert lint_manifests(files) == []
    kinds = sorted(o["kind"] for rel, o in objects(files).items() if rel != "k8s/kustomization.yaml")
    assert kinds.count("PodMonitor") == len(fleet.models)
    assert kinds.count("ServiceMonitor") == 0  # the Pushgateway's comes with the jobs (k8s/jobs/)
    assert kinds.count("PrometheusRule") == 1
    assert kinds.count("ConfigMap") == len(dashboards(fleet)) + 1 + len(fleet.models) + 2


def test_example_fleet_largest_configmap_is_under_the_client_side_limit():
    result, files = tree(spec())
    name, size = result.largest
    assert 1000 < size < km.CLIENT_SIDE_APPLY_LIMIT
    sizes = {o["metadata"]["name"]: km.configmap_sizes(o)[1] for o in objects(files).values() if o.get("kind") == "ConfigMap"}
    assert sizes[name] == max(sizes.values())
    assert f"{size:,} bytes" in result.summary[0]


def test_kubectl_kustomize_builds_the_tree(tmp_path):
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is part of the test environment"
    _result, files = tree(spec())
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    out = subprocess.run([kubectl, "kustomize", str(tmp_path / "k8s")], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    built = [d for d in yaml.safe_load_all(out.stdout) if d]
    assert len(built) == len(files_under_k8s(files)) - 1  # all but kustomization.yaml


def files_under_k8s(files):
    return [rel for rel in files if rel.startswith("k8s/") and rel.endswith(".yaml")]


def test_dashboard_configmap_shape_and_default_sidecar_conventions():
    fleet = spec()
    _result, files = tree(fleet)
    uid, folder, board = dashboards(fleet)[0]
    cm = objects(files)[f"k8s/dashboards/{uid}.yaml"]
    assert cm["metadata"]["namespace"] == "monitoring"
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert cm["metadata"]["annotations"] == {"k8s-sidecar-target-directory": folder}
    assert list(cm["data"]) == [f"{uid}.json"]
    assert json.loads(cm["data"][f"{uid}.json"]) == board
    ds = objects(files)["k8s/datasources/modeldash-prometheus.yaml"]
    assert ds["metadata"]["labels"]["grafana_datasource"] == "1"
    (ds_text,) = ds["data"].values()
    assert yaml.safe_load(ds_text)["datasources"][0]["uid"] == "modeldash-prometheus"


def test_labels_and_annotations_follow_the_spec_overrides():
    fleet = spec(
        namespace="grafana",
        dashboard_label={"name": "example.com/dashboard", "value": "yes"},
        folder_annotation="grafana_folder",
        datasource_label={"name": "my_ds"},
        alert_label={"name": "my_alerts", "value": "on"},
        release="prom",
        extra_labels={"team": "ml"},
    )
    _result, files = tree(fleet)
    objs = objects(files)
    for rel, o in objs.items():
        if rel == "k8s/kustomization.yaml":
            continue
        assert o["metadata"]["namespace"] == "grafana", rel
        assert o["metadata"]["labels"]["team"] == "ml", rel
    dash = [o for r, o in objs.items() if r.startswith("k8s/dashboards/")]
    assert dash and all(o["metadata"]["labels"]["example.com/dashboard"] == "yes" for o in dash)
    assert all("grafana_dashboard" not in o["metadata"]["labels"] for o in dash)
    assert all(list(o["metadata"]["annotations"]) == ["grafana_folder"] for o in dash)
    assert objs["k8s/datasources/modeldash-prometheus.yaml"]["metadata"]["labels"]["my_ds"] == "1"
    alerts = [o for r, o in objs.items() if r.startswith("k8s/alerting/")]
    assert alerts and all(o["metadata"]["labels"]["my_alerts"] == "on" for o in alerts)
    monitoring = [o for o in objs.values() if o.get("apiVersion") == "monitoring.coreos.com/v1"]
    assert monitoring and all(o["metadata"]["labels"]["release"] == "prom" for o in monitoring)
    assert lint_manifests(files) == []


def test_scrape_endpoints_are_asked_of_the_backends_and_can_be_overridden():
    fleet = spec(endpoints={"churn-classifier": {"kind": "ServiceMonitor", "port_name": "metrics",
                                                 "selector": {"app": "churn"}, "endpoints": [{"port": 9000, "path": "/m"}]}})
    _result, files = tree(fleet)
    objs = objects(files)
    fraud = objs["k8s/monitors/models/fraud-detector.yaml"]  # knative-legacy: queue-proxy
    assert fraud["kind"] == "PodMonitor"
    assert [e["portNumber"] for e in fraud["spec"]["podMetricsEndpoints"]] == [9091]
    assert fraud["spec"]["namespaceSelector"] == {"matchNames": ["fraud"]}
    price = objs["k8s/monitors/models/price-regressor.yaml"]  # kserve + istio for status codes
    ports = [e["portNumber"] for e in price["spec"]["podMetricsEndpoints"]]
    backend = fleet.backend_for(fleet.models[2])
    assert ports == [backend.metrics_port, fleet.error_backend_for(fleet.models[2]).metrics_port] == [8080, 15090]
    churn = objs["k8s/monitors/models/churn-classifier.yaml"]
    assert churn["kind"] == "ServiceMonitor"
    assert churn["spec"]["endpoints"][0]["port"] == "metrics" and churn["spec"]["endpoints"][0]["path"] == "/m"
    assert churn["spec"]["selector"]["matchLabels"] == {"app": "churn"}
    assert lint_manifests(files) == []


def test_names_stay_dns_labels_for_long_model_names_and_prefixes():
    data = spec_data(name_prefix="a-very-long-name-prefix-chosen-by-someone-who-likes-long-names")
    data["models"][0]["name"] = "m" * 30
    data["models"][1]["name"] = "m" * 29 + "n"
    fleet = load_spec_data(data, "fleet.yaml")
    _result, files = tree(fleet)
    names = [o["metadata"]["name"] for r, o in objects(files).items() if r != "k8s/kustomization.yaml"]
    assert all(len(n) <= 63 for n in names)
    assert len(names) == len(set(names)), "cut names must stay unique"
    assert lint_manifests(files) == []


def test_provisioning_tree_for_a_grafana_outside_kubernetes():
    fleet = spec()
    result, files = tree(fleet)
    provider = yaml.safe_load(files["provisioning/dashboards/modeldash.yaml"])["providers"][0]
    assert provider["options"]["foldersFromFilesStructure"] is True and "folder" not in provider
    path = provider["options"]["path"]
    assert path == "/etc/grafana/provisioning/dashboards/modeldash"
    for uid, folder, board in dashboards(fleet):
        assert json.loads(files[f"provisioning/dashboards/modeldash/{folder}/{uid}.json"]) == board
    ds = yaml.safe_load(files["provisioning/datasources/modeldash.yaml"])
    assert ds["datasources"][0]["url"] == fleet.datasource.url
    alerting = yaml.safe_load(files["provisioning/alerting/modeldash.yaml"])
    assert alerting["contactPoints"] and alerting["policies"] and alerting["deleteRules"] == []
    assert "groups" not in alerting
    groups = [g for rel, text in sorted(files.items()) if rel.startswith("provisioning/alerting/modeldash-alerts-")
              for g in yaml.safe_load(text)["groups"]]
    assert sorted(groups, key=lambda g: g["name"]) == sorted(alerting_doc(fleet)["groups"], key=lambda g: g["name"])


def _huge(fleet, classes: int):
    uid, folder, board = dashboards(fleet)[0]
    board = {**board, "description": "x" * classes}
    return [(uid, folder, board)]


def test_a_huge_dashboard_trips_the_client_side_limit_with_the_documented_message():
    fleet = spec()
    result = render_k8s(fleet, _huge(fleet, 300_000), None, [], None)
    (problem,) = result.problems
    name = km.k8s_name("modeldash", "dash", _huge(fleet, 1)[0][0])
    assert f"ConfigMap {name} is " in problem
    assert "over the 262,144-byte limit of client-side `kubectl apply`" in problem
    assert "kubectl apply --server-side" in problem and "kubernetes.server_side_apply: true" in problem
    assert "\n" not in problem
    # the same dashboard is fine when the cluster applies server-side ...
    ssa = spec(server_side_apply=True)
    assert render_k8s(ssa, _huge(ssa, 300_000), None, [], None).problems == []
    # ... but 1 MiB is a hard limit either way
    (hard,) = render_k8s(ssa, _huge(ssa, 1_100_000), None, [], None).problems
    assert "1 MiB" in hard and "server-side apply does not lift" in hard


def test_configmap_sizes_count_go_html_escapes():
    cm = km.configmap(spec(), "x", {"a.json": "<&>"}, {})
    data, applied = km.configmap_sizes(cm)
    assert data == len("a.json") + 3
    plain = len(json.dumps(cm, separators=(",", ":")).encode())
    assert applied == plain + 15


@pytest.mark.parametrize(
    "kubernetes, field, words",
    [
        ({"namespace": "Monitoring"}, "kubernetes.namespace", "DNS-1123"),
        ({"dashboard_label": {"name": "grafana_dashboard", "value": 1}}, "kubernetes.dashboard_label.value", "quote it"),
        ({"folder_annotation": "bad key!"}, "kubernetes.folder_annotation", "label key"),
        ({"release": "x" * 64}, "kubernetes.release", "63"),
        ({"endpoints": {"no-such-model": {}}}, "kubernetes.endpoints.no-such-model", "no model named"),
        ({"endpoints": {"fraud-detector": {"kind": "ServiceMonitor"}}}, "kubernetes.endpoints.fraud-detector", "port_name"),
        ({"endpoints": {"fraud-detector": {"endpoints": [{"port": 70000}]}}}, "kubernetes.endpoints.fraud-detector.endpoints[0].port", "65535"),
        ({"keep_deletions_for": 0}, "kubernetes.keep_deletions_for", "at least 1"),
        ({"server_side_aply": True}, "kubernetes.server_side_aply", "unknown key"),
    ],
)
def test_bad_kubernetes_settings_are_one_line_spec_errors(kubernetes, field, words):
    with pytest.raises(SpecError) as exc:
        load_spec_data(spec_data(**kubernetes), "fleet.yaml")
    assert exc.value.field == field
    assert words in exc.value.reason
    assert "\n" not in str(exc.value)


def test_same_spec_gives_byte_identical_trees():
    fleet = spec()
    first, second = tree(fleet)[1], tree(spec())[1]
    assert first == second
    assert all(text.endswith("\n") for text in first.values())


def test_two_objects_never_share_a_file():
    fleet = spec()
    board = dashboards(fleet)[0]
    with pytest.raises(RuntimeError, match=f"k8s/dashboards/{board[0]}.yaml"):
        render_k8s(fleet, [board, board], None, [], None)


def test_disabled_k8s_tree_skips_manifests_and_size_limits_but_keeps_provisioning():
    fleet = spec(enabled=False)
    result = render_k8s(fleet, _huge(fleet, 300_000), alerting_doc(fleet), [PROM_RULE], None)
    assert result.problems == [] and result.manifests == 0
    assert not any(rel.startswith("k8s/") for rel in result.files)
    assert "provisioning/alerting/modeldash.yaml" in result.files
    assert any("kubernetes.enabled: false" in line for line in result.summary)


def test_alert_configmap_names_are_short_and_unique_across_folders():
    fleet = spec()
    doc = alerting_doc(fleet)
    doc["groups"].append({**doc["groups"][0], "folder": "Other", "rules": [{"uid": "other-rule", "title": "X"}]})
    stems = [f.stem for f in km.alert_files(fleet, doc, [])]
    assert "modeldash-alerts-churn-classifier" in stems
    assert "modeldash-alerts-ml-models-fraud-detector" in stems and "modeldash-alerts-other-fraud-detector" in stems
    assert len(stems) == len(set(stems))
