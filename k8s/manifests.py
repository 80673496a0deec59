"""Kubernetes objects for kube-prometheus-stack, built from the spec and the built dashboards/alerts.

Pure: every function takes values and returns manifest dicts (or size findings); the output
family in ``scripts/output_k8s.py`` serialises them. Names follow the sidecar's rules: DNS-1123,
at most 63 characters (long names are cut and suffixed with a hash, so they stay unique).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import orjson

from modeldash.spec.fleet import FleetSpec, ModelSpec

NAME_MAX = 63
# Kubernetes refuses a ConfigMap whose data (keys + values) exceeds 1 MiB, whatever the apply mode.
CONFIGMAP_DATA_LIMIT = 1024 * 1024
# Client-side `kubectl apply` copies the object into the last-applied-configuration annotation;
# all annotations together may hold at most 256 KiB ("metadata.annotations: Too long").
CLIENT_SIDE_APPLY_LIMIT = 262_144
# etcd refuses a request over 1.5 MiB (its default --max-request-bytes): any object, any apply mode.
ETCD_OBJECT_LIMIT = 1536 * 1024


def k8s_name(*parts: str) -> str:
    """A DNS-1123 label from name parts: lowercase ``[a-z0-9-]``, <= 63 chars, hash-suffixed when cut."""
    raw = "-".join(p for p in parts if p)
    slug = re.sub(r"[^a-z0-9]+", "-", raw.lower()).strip("-") or "x"
    if len(slug) > NAME_MAX:
        digest = hashlib.sha1(raw.encode()).hexdigest()[:8]
        slug = slug[: NAME_MAX - 9].rstrip("-") + "-" + digest
    return slug


def compact_json(obj) -> str:
    """Dashboard JSON inside a ConfigMap: sorted and without whitespace, to stay far from the limits.

    orjson (as ``render.dumps_json``): the stdlib encoder is several times slower on 1,000 dashboards.
    """
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS).decode("utf-8")


def _labels(spec: FleetSpec, own: dict[str, str] | None = None) -> dict[str, str]:
    k = spec.kubernetes
    labels = {
        "app.kubernetes.io/managed-by": "modeldash",
        "app.kubernetes.io/part-of": spec.name,
        **k.extra_labels,
    }
    labels.update(own or {})
    return labels


def _metadata(spec: FleetSpec, name: str, labels: dict | None = None, annotations: dict | None = None) -> dict:
    meta = {"name": name, "namespace": spec.kubernetes.namespace, "labels": _labels(spec, labels)}
    if annotations:
        meta["annotations"] = annotations
    return meta


def configmap(spec: FleetSpec, name: str, data: dict[str, str], labels: dict, annotations: dict | None = None) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(spec, name, labels, annotations),
        "data": data,
    }


# --------------------------------------------------------------------------- dashboards


def folder_directory(title: str) -> str:
    """The directory the sidecar (or a provider with foldersFromFilesStructure) turns into a folder."""
    name = title.replace("/", "-").strip()
    return name if name not in ("", ".", "..") else "modeldash"


def dashboard_configmap(spec: FleetSpec, uid: str, folder_title: str, dashboard_json: dict) -> dict:
    """One dashboard per ConfigMap, data key ``<uid>.json``, folder through the sidecar's annotation."""
    k = spec.kubernetes
    return configmap(
        spec,
        k8s_name(k.name_prefix, "dash", uid),
        {f"{uid}.json": compact_json(dashboard_json)},
        {k.dashboard_label.name: k.dashboard_label.value},
        {k.folder_annotation: folder_directory(folder_title)},
    )


# --------------------------------------------------------------------------- datasource


def datasource_configmap(spec: FleetSpec, yaml_text: str) -> dict:
    k = spec.kubernetes
    return configmap(
        spec,
        k8s_name(k.name_prefix, "datasource", spec.datasource.uid),
        {f"modeldash-{spec.datasource.uid}.yaml": yaml_text},
        {k.datasource_label.name: k.datasource_label.value},
    )


# --------------------------------------------------------------------------- alerting


@dataclass(frozen=True)
class AlertFile:
    """One file of Grafana's alerting provisioning format, destined for one ConfigMap."""

    stem: str  # k8s name of the ConfigMap, also the data key (``<stem>.yaml``)
    content: dict
    role: str = "group"  # "group", "routing" or "deletions"


def rule_uids(alerting: dict) -> list[str]:
    """Every rule uid in a provisioning document (``groups[].rules[].uid``)."""
    return sorted(r["uid"] for g in alerting.get("groups", []) for r in g.get("rules", []) if r.get("uid"))


def alerting_with_deletions(alerting: dict, delete_uids: list[str]) -> dict:
    """The provisioning document without its rule groups (those go one file each), ``deleteRules`` added."""
    doc = {k: v for k, v in alerting.items() if k not in ("groups", "deleteRules")}
    doc.setdefault("apiVersion", 1)
    doc["deleteRules"] = [{"orgId": 1, "uid": uid} for uid in delete_uids]
    return doc


def alert_files(spec: FleetSpec, alerting: dict, delete_uids: list[str]) -> list[AlertFile]:
    """The alerting document split for the sidecar: one file per rule group, one for routing
    (contact points, policies, templates, mute timings) and one for ``deleteRules``.

    The deletions file is always present (empty when nothing vanished) so applying the tree
    overwrites an older list: a stale one could delete a rule that came back.
    """
    prefix = spec.kubernetes.name_prefix
    groups = alerting.get("groups", [])
    names = [str(g["name"]) for g in groups]
    out = []
    for group, name in zip(groups, names):
        short = name[len(prefix) + 1:] if name.startswith(prefix + "-") else name
        # the folder joins the name only when two folders hold a group of the same name
        folder = str(group.get("folder", "")) if names.count(name) > 1 else ""
        stem = k8s_name(prefix, "alerts", folder, short)
        out.append(AlertFile(stem, {"apiVersion": 1, "groups": [group]}))
    routing = {k: v for k, v in alerting.items() if k not in ("apiVersion", "groups", "deleteRules")}
    if routing:
        out.append(AlertFile(k8s_name(prefix, "alerting-routing"), {"apiVersion": 1, **routing}, "routing"))
    out.append(AlertFile(
        k8s_name(prefix, "alerting-deletions"),
        {"apiVersion": 1, "deleteRules": [{"orgId": 1, "uid": uid} for uid in delete_uids]},
        "deletions",
    ))
    stems = [f.stem for f in out]
    dup = sorted({s for s in stems if stems.count(s) > 1})
    if dup:
        raise ValueError(f"two alert rule groups map to the same ConfigMap name {dup[0]!r}")
    return out


def alert_configmap(spec: FleetSpec, stem: str, yaml_text: str) -> dict:
    k = spec.kubernetes
    return configmap(spec, stem, {f"{stem}.yaml": yaml_text}, {k.alert_label.name: k.alert_label.value})


# --------------------------------------------------------------------------- Prometheus Operator


def prometheus_rule(spec: FleetSpec, manifest: dict) -> dict:
    """A PrometheusRule from the alerts module, placed in our namespace with the selector's labels."""
    k = spec.kubernetes
    meta = dict(manifest.get("metadata") or {})
    name = k8s_name(meta.get("name") or f"{k.name_prefix}-rules")
    labels = {**_labels(spec), **(meta.get("labels") or {}), "release": k.release}
    out = dict(manifest)
    out["metadata"] = {**meta, "name": name, "namespace": k.namespace, "labels": labels}
    return out


def _endpoints(spec: FleetSpec, model: ModelSpec) -> list[tuple[int, str]]:
    """(port, path) pairs where this model's series live, asked of its backends (deduplicated)."""
    backends = [spec.backend_for(model)]
    err = spec.error_backend_for(model)
    if err is not None:
        backends.append(err)
    seen: list[tuple[int, str]] = []
    for b in backends:
        ep = (b.metrics_port, b.metrics_path)
        if ep not in seen:
            seen.append(ep)
    return seen


def model_monitor(spec: FleetSpec, model: ModelSpec) -> dict:
    """A PodMonitor (default) or ServiceMonitor scraping one model's serving pods.

    Lives in our namespace and selects the model's namespace, so one RBAC-free place holds
    every monitor and the chart's ``release`` selector finds it.
    """
    k = spec.kubernetes
    override = k.endpoints.get(model.name)
    kind = override.kind if override else "PodMonitor"
    selector = (override.selector if override and override.selector else None) or {
        "serving.kserve.io/inferenceservice": model.isvc
    }
    if override and override.endpoints:
        endpoints = [(e.port, e.path) for e in override.endpoints]
    else:
        endpoints = _endpoints(spec, model)
    interval = f"{int(k.scrape_interval)}s"
    labels = {"release": k.release, "modeldash.io/model": model.name}
    body: dict = {
        "namespaceSelector": {"matchNames": [model.namespace]},
        "selector": {"matchLabels": dict(selector)},
    }
    if kind == "PodMonitor":
        body["podMetricsEndpoints"] = [
            {"portNumber": port, "path": path, "interval": interval} for port, path in endpoints
        ]
    else:
        body["endpoints"] = [
            {"port": override.port_name, "path": path, "interval": interval} for _port, path in endpoints
        ]
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": kind,
        "metadata": _metadata(spec, k8s_name(k.name_prefix, "model", model.name), labels),
        "spec": body,
    }


# --------------------------------------------------------------------------- size guard


def configmap_data_size(cm: dict) -> int:
    """What the API server's 1 MiB ConfigMap check counts: data keys + values, in bytes."""
    return sum(len(k.encode()) + len(v.encode()) for k, v in (cm.get("data") or {}).items())


_ALL_BUT_GO_ESCAPED = bytes(b for b in range(256) if b not in b"<>&")  # Go escapes these three


def configmap_sizes(cm: dict) -> tuple[int, int]:
    """``(data bytes, client-side-apply bytes)`` of a ConfigMap.

    The first is what the API server's 1 MiB check counts (keys + values). The second is the
    size of the last-applied-configuration annotation `kubectl apply` writes: the object as
    compact JSON, where Go escapes ``<``, ``>`` and ``&`` as six-byte ``\\u003c`` sequences.
    """
    data = configmap_data_size(cm)
    applied = orjson.dumps(cm)
    # the bytes left after deleting all but <, > and &: one pass in C instead of three counts
    applied_bytes = len(applied) + 5 * len(applied.translate(None, _ALL_BUT_GO_ESCAPED))
    return data, applied_bytes


def size_problem(spec: FleetSpec, cm: dict, path: str, shrink: str = "make the dashboard smaller",
                 sizes: tuple[int, int] | None = None) -> str | None:
    """The one-line error for an object (ConfigMap or any other kind) over a limit, or None.

    ``sizes``: ``configmap_sizes(cm)`` when the caller measured it already."""
    name = f"{cm['kind']} {cm['metadata']['name']}"
    data, applied = sizes or configmap_sizes(cm)
    if applied > ETCD_OBJECT_LIMIT:
        return (f"{path}: {name} is {applied:,} bytes, over etcd's {ETCD_OBJECT_LIMIT:,}-byte object limit, "
                f"which server-side apply does not lift; {shrink}")
    if data > CONFIGMAP_DATA_LIMIT:
        return (
            f"{path}: {name} holds {data:,} bytes of data, over Kubernetes' 1 MiB "
            f"({CONFIGMAP_DATA_LIMIT:,}-byte) ConfigMap limit, which server-side apply does not lift; {shrink}"
        )
    if applied > CLIENT_SIDE_APPLY_LIMIT and not spec.kubernetes.server_side_apply:
        return (
            f"{path}: {name} is {applied:,} bytes, over the {CLIENT_SIDE_APPLY_LIMIT:,}-byte limit of "
            "client-side `kubectl apply` (last-applied-configuration annotation); apply with "
            "`kubectl apply --server-side` and set kubernetes.server_side_apply: true in the spec, "
            f"or {shrink}"
        )
    return None
