"""Shared inputs for the k8s tests: spec variants and a small alerting document."""
from __future__ import annotations

import copy

import yaml

from modeldash.spec.fleet import bundled_example, load_spec_data

EXAMPLE = yaml.safe_load(bundled_example().read_text(encoding="utf-8"))


def spec_data(**kubernetes) -> dict:
    data = copy.deepcopy(EXAMPLE)
    if kubernetes:
        data["kubernetes"] = kubernetes
    return data


def spec(**kubernetes):
    return load_spec_data(spec_data(**kubernetes), "fleet.yaml")


def alerting_doc(fleet) -> dict:
    """A Grafana file-provisioning document like the alerts module's: a group per model."""
    return {
        "apiVersion": 1,
        "groups": [
            {
                "orgId": 1,
                "name": m.name,
                "folder": fleet.grafana.folder,
                "interval": "1m",
                "rules": [
                    {"uid": f"{m.name}-{alert}"[:40], "title": alert, "labels": {"model": m.name}}
                    for alert in ("latency-p95", "errors", "drift")
                ],
            }
            for m in fleet.models
        ],
        "contactPoints": [{"orgId": 1, "name": "slack", "receivers": []}],
        "policies": [{"orgId": 1, "receiver": "slack"}],
    }


def dashboards(fleet) -> list[tuple[str, str, dict]]:
    from modeldash.dashboards.build import build_dashboards

    return [(d.uid, d.folder_title, d.json) for d in build_dashboards(fleet)]


def remove_model(data: dict, index: int) -> dict:
    """Take a model out of spec data, with the per-model settings other sections keep for it."""
    model = data["models"].pop(index)
    jobs_models = (data.get("jobs") or {}).get("models") or {}
    jobs_models.pop(model["name"], None)
    return model
