"""Lint of the rendered ``k8s/`` tree: what the API server and the sidecar would refuse.

Checks every manifest's apiVersion/kind/metadata (DNS-1123 names of at most 63 characters,
namespaces, label keys and values, annotation keys), ConfigMap data keys and sizes, duplicate
objects (kustomize refuses them), that ``kustomization.yaml`` lists exactly the manifests, and
validates PrometheusRule / ServiceMonitor / PodMonitor objects against the Prometheus Operator
CRD schemas shipped in ``modeldash/schemas/prometheus-operator``.
"""
from __future__ import annotations

import functools
import re
from importlib import resources

import jsonschema
import yaml

from modeldash.k8s import manifests as km
from modeldash.spec.base import dns_label_problem
from modeldash.spec.kubernetes import label_value_problem, qualified_name_problem
from modeldash.scripts.schema_check import SchemaCheck
from modeldash.scripts.serialise import loads_yaml

_CRDS = {
    "PodMonitor": "monitoring.coreos.com_podmonitors.yaml",
    "ServiceMonitor": "monitoring.coreos.com_servicemonitors.yaml",
    "PrometheusRule": "monitoring.coreos.com_prometheusrules.yaml",
}
_API_VERSION_RE = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?v[0-9]+((alpha|beta)[0-9]+)?$")
_KIND_RE = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_CONFIGMAP_KEY_RE = re.compile(r"^[-._a-zA-Z0-9]+$")
_ANNOTATIONS_LIMIT = 262_144
_CRONJOB_NAME_MAX = 52
# kinds that live in a namespace: without one, `kubectl apply` would use whatever the context says
_NAMESPACED = {
    "ConfigMap", "Secret", "Service", "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob",
    "ServiceAccount", "Role", "RoleBinding", "PodMonitor", "ServiceMonitor", "PrometheusRule",
}
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.cache
def crd_validator(kind: str, api_version: str):
    """A jsonschema validator for ``spec.versions[name].schema.openAPIV3Schema`` of a CRD (None if unknown)."""
    if kind not in _CRDS:
        return None
    text = resources.files("modeldash").joinpath("schemas", "prometheus-operator", _CRDS[kind]).read_text("utf-8")
    crd = yaml.load(text, Loader=_LOADER)
    group = crd["spec"]["group"]
    for version in crd["spec"]["versions"]:
        if f"{group}/{version['name']}" == api_version:
            schema = version["schema"]["openAPIV3Schema"]
            return SchemaCheck(schema)
    return None


def _metadata_problems(where: str, obj: dict) -> list[str]:
    out = []
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return [f"{where}: metadata is missing"]
    problem = dns_label_problem(meta.get("name"), "metadata.name")
    if problem:
        out.append(f"{where}: {problem}")
    elif obj.get("kind") == "CronJob" and len(meta["name"]) > _CRONJOB_NAME_MAX:
        out.append(f"{where}: CronJob name {meta['name']!r} is longer than {_CRONJOB_NAME_MAX} characters "
                   "(its Jobs append an 11-character suffix)")
    if "namespace" not in meta and obj.get("kind") in _NAMESPACED:
        out.append(f"{where}: metadata.namespace is missing (a {obj.get('kind')} is namespaced)")
    if "namespace" in meta:
        problem = dns_label_problem(meta.get("namespace"), "metadata.namespace")
        if problem:
            out.append(f"{where}: {problem}")
    labels = meta.get("labels") or {}
    if not isinstance(labels, dict):
        out.append(f"{where}: metadata.labels must be a mapping")
        labels = {}
    for key, value in labels.items():
        for problem in (qualified_name_problem(key), label_value_problem(value)):
            if problem:
                out.append(f"{where}: metadata.labels: {problem}")
    annotations = meta.get("annotations") or {}
    if not isinstance(annotations, dict):
        out.append(f"{where}: metadata.annotations must be a mapping")
        annotations = {}
    size = 0
    for key, value in annotations.items():
        problem = qualified_name_problem(key)
        if problem:
            out.append(f"{where}: metadata.annotations: {problem}")
        if not isinstance(value, str):
            out.append(f"{where}: metadata.annotations: value of {key!r} must be a string")
        else:
            size += len(str(key)) + len(value.encode())
    if size > _ANNOTATIONS_LIMIT:
        out.append(f"{where}: metadata.annotations hold {size:,} bytes, over {_ANNOTATIONS_LIMIT:,}")
    return out


def _configmap_problems(where: str, obj: dict) -> list[str]:
    out = []
    data = obj.get("data") or {}
    if not isinstance(data, dict):
        return [f"{where}: data must be a mapping"]
    for key, value in data.items():
        if not isinstance(key, str) or len(key) > 253 or not _CONFIGMAP_KEY_RE.match(key):
            out.append(f"{where}: data key {key!r} is not a valid ConfigMap key")
        if not isinstance(value, str):
            out.append(f"{where}: data[{key!r}] must be a string")
            return out
    size = km.configmap_data_size(obj)
    if size > km.CONFIGMAP_DATA_LIMIT:
        out.append(f"{where}: ConfigMap data is {size:,} bytes, over the 1 MiB limit")
    return out


def lint_manifest(where: str, obj) -> list[str]:
    """Problems of one Kubernetes object, each ``<file>: <what>``."""
    if not isinstance(obj, dict):
        return [f"{where}: not a Kubernetes object (a mapping with apiVersion, kind, metadata)"]
    out = []
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if not isinstance(api_version, str) or not _API_VERSION_RE.match(api_version):
        out.append(f"{where}: apiVersion {api_version!r} is not a valid group/version")
    if not isinstance(kind, str) or not _KIND_RE.match(kind):
        out.append(f"{where}: kind {kind!r} is not a valid kind")
    out += _metadata_problems(where, obj)
    if kind == "ConfigMap":
        out += _configmap_problems(where, obj)
    if kind in _CRDS and isinstance(api_version, str):
        validator = crd_validator(kind, api_version)
        if validator is None:
            out.append(f"{where}: {kind} {api_version} is not a version of the CRD this tool knows")
        else:
            for err in sorted(validator.iter_errors(obj), key=lambda e: list(e.absolute_path)):
                path = ".".join(str(p) for p in err.absolute_path) or "(root)"
                out.append(f"{where}: {kind} schema: {path}: {err.message}")
    return out


class ManifestLint:
    """``lint_manifests`` one file at a time (a streaming render lints each file as it writes
    it): per-object checks at once, duplicates and the kustomization's list at ``finish``."""

    KUSTOMIZATION = "k8s/kustomization.yaml"

    def __init__(self):
        self.problems: list[str] = []
        self._seen: dict[tuple, str] = {}
        self._manifests: list[str] = []
        self._kustomization = None

    @staticmethod
    def wants(rel: str) -> bool:
        return rel.startswith("k8s/") and rel.endswith((".yaml", ".yml"))

    def add(self, rel: str, text: str, obj=None) -> None:
        """One file under ``k8s/``; ``obj``: the object render serialised into it (not parsed again)."""
        self._manifests.append(rel)
        try:
            if isinstance(obj, dict):
                docs = [obj]
            elif text.lstrip()[:1] == "{":  # JSON-compatible YAML (serialise.dumps_yaml_json)
                docs = [loads_yaml(text)]
            else:
                docs = [d for d in yaml.load_all(text, Loader=_LOADER) if d is not None]
        except yaml.YAMLError as exc:
            self.problems.append(f"{rel}: not valid YAML ({str(exc).splitlines()[0]})")
            return
        if rel == self.KUSTOMIZATION:
            self._kustomization = docs[0] if docs else {}
            return
        if not docs:
            self.problems.append(f"{rel}: holds no manifest")
        for doc in docs:
            self.problems += lint_manifest(rel, doc)
            if isinstance(doc, dict) and isinstance(doc.get("metadata"), dict):
                meta = doc["metadata"]
                group = str(doc.get("apiVersion", "")).rpartition("/")[0]
                key = (group, doc.get("kind"), meta.get("namespace", ""), meta.get("name"))
                if key in self._seen:
                    self.problems.append(f"{rel}: {doc.get('kind')} {meta.get('name')} is also defined in {self._seen[key]}")
                else:
                    self._seen[key] = rel

    def absorb(self, earlier: "ManifestLint") -> None:
        """Merge the lint of files another render process wrote before this one's (in tree
        order): the same problems, duplicates across both included, as one pass would find."""
        self.problems[:0] = earlier.problems
        self._manifests[:0] = earlier._manifests
        if self._kustomization is None:
            self._kustomization = earlier._kustomization
        seen = dict(earlier._seen)
        for key, rel in self._seen.items():
            if key in seen:
                self.problems.append(f"{rel}: {key[1]} {key[3]} is also defined in {seen[key]}")
            else:
                seen[key] = rel
        self._seen = seen

    def finish(self) -> list[str]:
        if self._manifests:
            return self.problems + _kustomization_problems(self._kustomization, sorted(self._manifests))
        return self.problems


def lint_manifests(files: dict[str, str], parsed: dict[str, object] | None = None) -> list[str]:
    """Problems of every manifest under ``k8s/`` in a rendered tree (``{relpath: text}``); empty when clean.

    ``parsed`` (render's ``ctx.parsed``) holds objects already built, by path: those files are
    not parsed again.
    """
    parsed = parsed or {}
    lint = ManifestLint()
    for rel in sorted(r for r in files if ManifestLint.wants(r)):
        lint.add(rel, files[rel], parsed.get(rel))
    return lint.finish()


def _kustomization_problems(kustomization, manifests: list[str]) -> list[str]:
    rel = "k8s/kustomization.yaml"
    if kustomization is None:
        return [f"{rel}: missing (kubectl apply -k needs it)"]
    listed = kustomization.get("resources") if isinstance(kustomization, dict) else None
    if not isinstance(listed, list):
        return [f"{rel}: resources must be a list"]
    expected = {m[len("k8s/"):] for m in manifests if m != rel}
    out = [f"{rel}: lists {r!r}, which is not in k8s/" for r in listed if r not in expected]
    out += [f"{rel}: does not list {r!r}" for r in sorted(expected - set(listed))]
    return out
