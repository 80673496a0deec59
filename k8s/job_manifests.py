"""Kubernetes objects that run the monitoring jobs: pure builders, no I/O.

One CronJob per model and enabled job (drift for models with features, quality for models
with ``ground_truth``), a ConfigMap per model with the spec its jobs read, and the Pushgateway's
ServiceMonitor with ``honorLabels: true`` so the pushed ``job``/``model`` labels survive the
scrape. The ``ModelMonitoringJobStale`` alert belongs to the alert rules, not here.
"""
from __future__ import annotations

from modeldash.k8s.yaml_block import dumps as dump_yaml
from modeldash.instrumentation.exports import DRIFT_JOB

SPEC_MOUNT = "/etc/modeldash/spec"
BASELINE_MOUNT = "/etc/modeldash/baseline"
SPEC_CONFIGMAP = "modeldash-jobs-spec"
PART_OF = "modeldash"


def _labels(component: str, model: str | None = None) -> dict:
    out = {"app.kubernetes.io/name": "modeldash-jobs", "app.kubernetes.io/part-of": PART_OF,
           "app.kubernetes.io/component": component}
    if model:
        out["modeldash.io/model"] = model
    return out


def spec_configmap_name(model_name: str) -> str:
    return f"{SPEC_CONFIGMAP}-{model_name}"


_PER_MODEL = (("jobs", "models"), ("kubernetes", "endpoints"))


def fleet_document(spec) -> dict:
    """The fleet spec as its jobs read it, without ``models`` (thresholds merged, durations in
    seconds): dumped once per render, then cut per model by ``model_spec_document``."""
    return spec.model_dump(mode="json", by_alias=True, exclude={"models"})


def model_spec_document(spec, model, fleet_doc: dict | None = None) -> dict:
    """The fleet spec cut to one model, as its jobs read it.

    One ConfigMap per model keeps each far below the 1 MiB ConfigMap limit however large the
    fleet; per-model maps of other sections keep only this model's entry, so it validates alone.
    ``fleet_doc`` (``fleet_document``) saves dumping the whole fleet once per model.
    """
    doc = dict(fleet_doc if fleet_doc is not None else fleet_document(spec))
    doc["models"] = [model.model_dump(mode="json", by_alias=True)]
    for section, key in _PER_MODEL:
        per_model = (doc.get(section) or {}).get(key)
        if isinstance(per_model, dict):
            doc[section] = {**doc[section], key: {k: v for k, v in per_model.items() if k == model.name}}
    return doc


class _SectionCache(dict):
    """The YAML text of each top-level section of the fleet document, dumped once per render.

    A block-style mapping with sorted keys is the concatenation of its keys' own dumps, so a
    model's document is its own sections (``models``, the per-model ``jobs``/``kubernetes``)
    and the shared ones, without dumping the shared ones once per model."""

    def text(self, key: str, value) -> str:
        if key not in self:
            self[key] = dump_yaml({key: value})
        return self[key]


def model_spec_text(spec, model, fleet_doc: dict | None = None, cache: _SectionCache | None = None) -> str:
    """``model_spec_document`` as YAML (what the spec ConfigMap holds)."""
    doc = model_spec_document(spec, model, fleet_doc)
    if cache is None:
        return dump_yaml(doc)
    per_model = {"models"} | {section for section, _ in _PER_MODEL}
    return "".join(dump_yaml({k: doc[k]}) if k in per_model
                   else cache.text(k, doc[k]) for k in sorted(doc))


def spec_configmap(spec, model, fleet_doc: dict | None = None, cache: _SectionCache | None = None) -> dict:
    text = model_spec_text(spec, model, fleet_doc, cache)
    return {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": spec_configmap_name(model.name), "namespace": spec.jobs.namespace,
                     "labels": _labels("spec", model.name)},
        "data": {"fleet.yaml": text},
    }


def _args(spec, model, job: str) -> list[str]:
    s = spec.jobs.for_model(model.name)
    common = [f"{SPEC_MOUNT}/fleet.yaml", "--model", model.name, "--pushgateway", spec.jobs.pushgateway_url,
              "--report", f"/tmp/{job}-report.json"]
    if job == DRIFT_JOB:
        return ["drift-job", *common, "--baseline", f"{BASELINE_MOUNT}/baseline.json", "--input", s.inputs,
                "--timestamp-column", s.timestamp_column, "--prediction-column", s.prediction_column]
    return ["quality-job", *common, "--predictions", s.predictions, "--labels", s.labels,
            "--id-column", s.id_column, "--prediction-column", s.prediction_column,
            "--label-column", s.label_column, "--timestamp-column", s.timestamp_column]


def cronjob(spec, model, job: str) -> dict:
    """The CronJob of one model's ``drift`` or ``quality`` job."""
    job_spec = getattr(spec.jobs, job)
    s = spec.jobs.for_model(model.name)
    labels = _labels(job, model.name)
    volumes = [{"name": "spec", "configMap": {"name": spec_configmap_name(model.name)}}]
    mounts = [{"name": "spec", "mountPath": SPEC_MOUNT, "readOnly": True}]
    if job == DRIFT_JOB:
        volumes.append({"name": "baseline", "configMap": {"name": s.baseline_configmap}})
        mounts.append({"name": "baseline", "mountPath": BASELINE_MOUNT, "readOnly": True})
    container = {
        "name": job,
        "image": spec.jobs.image,
        "command": ["modeldash"],
        "args": _args(spec, model, job),
        # table:/query: sources read the SQLAlchemy URL from this Secret; never a command-line value
        "env": [{"name": "MODELDASH_DB_URL",
                 "valueFrom": {"secretKeyRef": {"name": spec.jobs.database_secret, "key": "url", "optional": True}}}],
        "volumeMounts": mounts,
        "resources": {"requests": {"cpu": "500m", "memory": "512Mi"}, "limits": {"memory": "1Gi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": False,
                            "capabilities": {"drop": ["ALL"]}},
    }
    return {
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": f"modeldash-{job}-{model.name}", "namespace": spec.jobs.namespace, "labels": labels},
        "spec": {
            "schedule": job_spec.schedule,
            "concurrencyPolicy": "Forbid",  # a slow run is not overlapped by the next
            "startingDeadlineSeconds": 300,
            "successfulJobsHistoryLimit": 1,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "metadata": {"labels": dict(labels)},
                "spec": {
                    "backoffLimit": 1,
                    "activeDeadlineSeconds": int(job_spec.period),  # never runs into the next schedule
                    "ttlSecondsAfterFinished": 86400,
                    "template": {
                        "metadata": {"labels": dict(labels)},
                        "spec": {
                            "restartPolicy": "Never",
                            "securityContext": {"runAsNonRoot": True, "runAsUser": 65534, "runAsGroup": 65534},
                            "containers": [container],
                            "volumes": volumes,
                        },
                    },
                },
            },
        },
    }


def pushgateway_service_monitor(spec) -> dict:
    """Scrape the Pushgateway keeping the pushed labels (``honorLabels``), not the gateway's own."""
    return {
        "apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
        "metadata": {"name": "modeldash-pushgateway", "namespace": spec.jobs.namespace,
                     "labels": {**_labels("pushgateway"), **spec.jobs.service_monitor_labels}},
        "spec": {
            "selector": {"matchLabels": dict(spec.jobs.pushgateway_selector)},
            "namespaceSelector": {"matchNames": [spec.jobs.namespace]},
            "endpoints": [{"port": spec.jobs.pushgateway_port, "path": "/metrics", "interval": "30s",
                           "honorLabels": True}],
        },
    }


def enabled_jobs(spec, model) -> list[str]:
    """Which jobs a model gets (the spec decides, for the CronJobs and the stale alerts alike)."""
    return spec.jobs.enabled_for(model)


def job_manifests(spec) -> list[dict]:
    """Every object of the jobs: CronJobs, the spec ConfigMap and the Pushgateway ServiceMonitor."""
    out = []
    fleet_doc = fleet_document(spec)
    cache = _SectionCache()
    for m in spec.models:
        jobs = enabled_jobs(spec, m)
        if jobs:
            out += [spec_configmap(spec, m, fleet_doc, cache), *(cronjob(spec, m, job) for job in jobs)]
    return out + [pushgateway_service_monitor(spec)]
