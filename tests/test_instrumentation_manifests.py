"""The jobs' Kubernetes objects: CronJobs per model and job, the Pushgateway ServiceMonitor."""
from __future__ import annotations

from importlib import resources

import jsonschema
import pytest
import yaml

from modeldash.spec.fleet import load_spec_data
from modeldash.datasources.metrics import JOB_LAST_SUCCESS
from modeldash.k8s.job_manifests import job_manifests, spec_configmap_name
from modeldash.scripts.render import build_files, dumps_yaml


def crd_schema(name: str) -> dict:
    text = resources.files("modeldash").joinpath(f"schemas/prometheus-operator/{name}").read_text()
    crd = yaml.safe_load(text)
    return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


def by_name(objs):
    return {(o["kind"], o["metadata"]["name"]): o for o in objs}


def test_cronjobs_follow_the_spec(example_spec):
    objs = by_name(job_manifests(example_spec))
    crons = {k[1] for k in objs if k[0] == "CronJob"}
    # drift for every model with features, quality only where ground_truth is declared
    assert crons == {
        "modeldash-drift-fraud-detector", "modeldash-drift-churn-classifier", "modeldash-drift-price-regressor",
        "modeldash-quality-fraud-detector", "modeldash-quality-price-regressor",
    }
    drift = objs[("CronJob", "modeldash-drift-fraud-detector")]
    assert drift["spec"]["schedule"] == example_spec.jobs.drift.schedule
    assert drift["spec"]["concurrencyPolicy"] == "Forbid"
    pod = drift["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    c = pod["containers"][0]
    assert c["args"][:2] == ["drift-job", "/etc/modeldash/spec/fleet.yaml"]
    assert c["args"][c["args"].index("--model") + 1] == "fraud-detector"
    assert c["args"][c["args"].index("--input") + 1] == "table:fraud_detector_inputs"
    assert c["args"][c["args"].index("--pushgateway") + 1] == example_spec.jobs.pushgateway_url
    assert c["env"][0]["valueFrom"]["secretKeyRef"]["name"] == "modeldash-db"  # the DB URL never is an argument
    assert {v["configMap"]["name"] for v in pod["volumes"]} == {spec_configmap_name("fraud-detector"),
                                                                "fraud-detector-baseline"}
    assert pod["restartPolicy"] == "Never"
    quality = objs[("CronJob", "modeldash-quality-price-regressor")]
    assert quality["spec"]["schedule"] == example_spec.jobs.quality.schedule
    assert "quality-job" in quality["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]


def test_service_monitor_honours_pushed_labels_and_is_schema_valid(example_spec):
    sm = by_name(job_manifests(example_spec))[("ServiceMonitor", "modeldash-pushgateway")]
    assert all(e["honorLabels"] is True for e in sm["spec"]["endpoints"])
    assert sm["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": "prometheus-pushgateway"}
    jsonschema.validate(sm, crd_schema("monitoring.coreos.com_servicemonitors.yaml"))


def test_spec_configmap_round_trips_per_model(example_spec):
    """Each model's ConfigMap holds the spec cut to that model, and it loads on its own."""
    objs = by_name(job_manifests(example_spec))
    for model in example_spec.models:
        cm = objs[("ConfigMap", spec_configmap_name(model.name))]
        loaded = load_spec_data(yaml.safe_load(cm["data"]["fleet.yaml"]), "configmap")
        assert loaded.models == [model]
        assert loaded.model_copy(update={"models": example_spec.models, "jobs": example_spec.jobs,
                                         "kubernetes": example_spec.kubernetes}) == example_spec
        assert loaded.jobs.for_model(model.name) == example_spec.jobs.for_model(model.name)


def test_spec_configmaps_stay_small_in_a_large_fleet():
    """A 1,000-model fleet in one ConfigMap was 1.3 MB, over the 1 MiB limit; per model it is not."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from fleet import fleet_data

    spec = load_spec_data(fleet_data(1000))
    sizes = [len(o["data"]["fleet.yaml"]) for o in job_manifests(spec) if o["kind"] == "ConfigMap"]
    assert len(sizes) == 1000 and max(sizes) < 20_000


def test_jobs_settings_change_the_manifests(example_data):
    example_data["jobs"] = {
        "drift": {"schedule": "*/15 * * * *", "period": "15m"},
        "quality": {"enabled": False},
        "namespace": "ml-jobs",
        "models": {"fraud-detector": {"inputs": "query:SELECT * FROM fraud_log", "timestamp_column": "ts",
                                      "baseline_configmap": "fraud-base"}},
    }
    spec = load_spec_data(example_data, "t.yaml")
    objs = by_name(job_manifests(spec))
    assert not [k for k in objs if k[1].startswith("modeldash-quality")]
    cron = objs[("CronJob", "modeldash-drift-fraud-detector")]
    assert cron["metadata"]["namespace"] == "ml-jobs" and cron["spec"]["schedule"] == "*/15 * * * *"
    job = cron["spec"]["jobTemplate"]["spec"]
    assert job["activeDeadlineSeconds"] == 900
    args = job["template"]["spec"]["containers"][0]["args"]
    assert args[args.index("--input") + 1] == "query:SELECT * FROM fraud_log"
    assert args[args.index("--timestamp-column") + 1] == "ts"
    assert "fraud-base" in {v["configMap"]["name"] for v in job["template"]["spec"]["volumes"]}


def test_unknown_model_in_jobs_settings_is_a_spec_error(example_data, write_spec, cli):
    example_data["jobs"] = {"models": {"no-such-model": {"inputs": "x.csv"}}}
    result = cli("render", write_spec(example_data), "-o", write_spec(example_data).parent / "out")
    assert result.exit_code == 2
    assert "jobs.models.no-such-model" in result.output and "Traceback" not in result.output


def test_rendered_files_one_object_each_and_deterministic(example_spec, tmp_path):
    files, ctx = build_files(example_spec, tmp_path / "out")
    jobs = {k: v for k, v in files.items() if k.startswith("k8s/jobs/")}
    assert len(jobs) == len(job_manifests(example_spec))
    for rel, text in jobs.items():
        obj = yaml.safe_load(text)
        assert rel == f"k8s/jobs/{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"
        assert text == dumps_yaml(obj) and "&id" not in text
    again, _ = build_files(example_spec, tmp_path / "out")
    assert {k: again[k] for k in jobs} == jobs
    assert "ServiceMonitor/modeldash-pushgateway" in ctx.manifest["jobs"]
    # the stale alert is the alert rules' job, not a manifest of ours
    assert not any("ModelMonitoringJobStale" in t for t in jobs.values())
    assert JOB_LAST_SUCCESS.name not in "".join(jobs.values())


@pytest.mark.parametrize("field,value", [("jobs.namespace", "Bad_NS"), ("jobs.drift.window", "-5m")])
def test_bad_jobs_settings_name_the_field(example_data, field, value):
    from modeldash.spec.fleet import SpecError

    section, *rest = field.split(".")
    target = example_data.setdefault(section, {})
    for part in rest[:-1]:
        target = target.setdefault(part, {})
    target[rest[-1]] = value
    with pytest.raises(SpecError) as exc:
        load_spec_data(example_data, "t.yaml")
    assert exc.value.field == field


def test_stale_alerts_watch_exactly_the_deployed_jobs():
    """A model without features gets no drift CronJob, and so no drift staleness alert."""
    from modeldash.alerts.build import alert_definitions
    from modeldash.spec.fleet import load_spec_data
    from modeldash.k8s.job_manifests import job_manifests

    spec = load_spec_data({"models": [
        {"name": "plain", "namespace": "a", "task": "regression"},
        {"name": "watched", "namespace": "b", "task": "regression", "features": ["x"], "ground_truth": True},
    ]})
    cronjobs = {(o["metadata"]["labels"].get("modeldash.io/model") or o["metadata"]["name"], o["metadata"]["name"])
                for o in job_manifests(spec) if o["kind"] == "CronJob"}
    stale = {(d.model, d.labels["job"]) for d in alert_definitions(spec) if d.name == "ModelMonitoringJobStale"}
    assert stale == {("watched", "drift"), ("watched", "quality")}
    assert len(cronjobs) == 2 and all("watched" in name for _, name in cronjobs)
