"""Where each model runs: nodes, the predictor Deployment, its pods, HPA and drift-job pod.

Names follow what KServe creates (``<isvc>-predictor-00001-deployment`` pods, an HPA on the
predictor, a CronJob-owned drift Job), so queries written for a real cluster match them.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from modeldash.spec.fleet import FleetSpec, ModelSpec
from modeldash.datasources.backends import Target, target_of

CONTAINERS = ("kserve-container", "queue-proxy")
IMAGES = {
    "kserve-container": "docker.io/kserve/sklearnserver:v0.13.0",
    "queue-proxy": "gcr.io/knative-releases/knative.dev/serving/cmd/queue:v1.14.1",
}
MODELS_PER_NODE = 20


def suffix(*parts: str, n: int = 5) -> str:
    """A stable, Kubernetes-like random-looking suffix."""
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in digest[:n])


@dataclass(frozen=True)
class Pod:
    name: str
    node: str
    index: int


@dataclass(frozen=True)
class ModelLayout:
    """The Kubernetes objects of one model."""

    model: ModelSpec
    target: Target
    revision: str
    deployment: str
    replicaset: str
    hpa: str
    pods: tuple[Pod, ...]
    drift_job: str
    drift_pod: str
    replicas: int
    hpa_min: int
    hpa_max: int

    @property
    def namespace(self) -> str:
        return self.model.namespace


@dataclass(frozen=True)
class Topology:
    nodes: tuple[str, ...]
    models: tuple[ModelLayout, ...]

    def by_name(self, model: str) -> ModelLayout:
        for m in self.models:
            if m.model.name == model:
                return m
        raise KeyError(f"no model {model!r} in the fleet")


def node_name(i: int) -> str:
    return f"node-{i + 1}"


def build_topology(spec: FleetSpec, replicas: int = 2) -> Topology:
    nodes = tuple(node_name(i) for i in range(max(2, math.ceil(len(spec.models) / MODELS_PER_NODE))))
    layouts = []
    for mi, m in enumerate(spec.models):
        target = target_of(m)
        revision = f"{target.predictor}-00001"
        deployment = f"{revision}-deployment"
        rs_hash = suffix(m.namespace, deployment, n=9)
        replicaset = f"{deployment}-{rs_hash}"
        pods = tuple(
            Pod(f"{replicaset}-{suffix(m.namespace, deployment, str(i))}", nodes[(mi + i) % len(nodes)], i)
            for i in range(replicas)
        )
        drift_job = f"{m.name}-drift-29000000"
        layouts.append(
            ModelLayout(
                model=m,
                target=target,
                revision=revision,
                deployment=deployment,
                replicaset=replicaset,
                hpa=target.predictor,
                pods=pods,
                drift_job=drift_job,
                drift_pod=f"{drift_job}-{suffix(m.namespace, drift_job)}",
                replicas=replicas,
                hpa_min=1,
                hpa_max=replicas + 3,
            )
        )
    return Topology(nodes, tuple(layouts))
