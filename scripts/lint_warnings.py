"""Warnings and notes about a rendered tree: things that are valid but bite when deployed.

Why apart from the lint problems: a problem fails lint (exit 1) and stops a render; these do
not. They are printed by ``render`` and ``lint`` (``warning:`` / ``note:`` lines on stderr):

- the datasource is exactly kube-prometheus-stack's own default one (name ``Prometheus`` or uid
  ``prometheus``): the chart's sidecar then loads two provisioning files for one datasource and
  Grafana keeps whichever it reads last (or refuses the duplicate name);
- a webhook receiver uses ``url_file``, which Alertmanager reads only from 0.26 on: older ones
  reject the whole config.
"""
from __future__ import annotations

import yaml

# kube-prometheus-stack's Grafana provisions this datasource itself (chart default)
CHART_DATASOURCE = {"name": "Prometheus", "uid": "prometheus"}
ALERTMANAGER_CONFIG = "alertmanager/alertmanager.yaml"
URL_FILE_SINCE = "0.26"


def read_by_warnings(path: str) -> bool:
    """Is this one of the files the warnings read (a render keeps only those for them)?"""
    return path == ALERTMANAGER_CONFIG or ("/datasources/" in path and path.endswith((".yaml", ".yml")))


def _load(text):
    try:
        return yaml.safe_load(text) if isinstance(text, str) else text
    except yaml.YAMLError:
        return None  # lint reports unparsable files as problems


def _datasources(path: str, doc) -> list[dict]:
    """Datasource entries of a provisioning file, or of the one inside a datasource ConfigMap."""
    if not isinstance(doc, dict):
        return []
    if doc.get("kind") == "ConfigMap":
        out = []
        for text in (doc.get("data") or {}).values():
            out += _datasources(path, _load(text))
        return out
    return [d for d in doc.get("datasources") or [] if isinstance(d, dict)]


def datasource_warnings(files: dict[str, str]) -> list[str]:
    """The datasource ConfigMaps (for the chart's sidecar) that redefine the chart's own datasource."""
    out = []
    for path in sorted(files):
        if path == ALERTMANAGER_CONFIG or not read_by_warnings(path):
            continue
        doc = _load(files[path])
        if not (isinstance(doc, dict) and doc.get("kind") == "ConfigMap"):
            continue  # provisioning/ is for a Grafana without the chart
        for ds in _datasources(path, doc):
            clash = [f"{k} {ds.get(k)!r}" for k in ("name", "uid") if ds.get(k) == CHART_DATASOURCE[k]]
            if clash:
                out.append(f"warning: {path}: datasource {', '.join(clash)}: the same as kube-prometheus-stack's "
                           "own default datasource, so the sidecar provisions one datasource twice; give yours "
                           "another datasource.name and datasource.uid in the spec (e.g. modeldash-prometheus)")
    return out


def url_file_notes(files: dict[str, str]) -> list[str]:
    doc = _load(files.get(ALERTMANAGER_CONFIG))
    if not isinstance(doc, dict):
        return []
    out = []
    for r in doc.get("receivers") or []:
        if not isinstance(r, dict):
            continue
        if any(isinstance(w, dict) and "url_file" in w for w in r.get("webhook_configs") or []):
            out.append(f"note: {ALERTMANAGER_CONFIG}: receiver {r.get('name')!r} uses webhook url_file, which needs "
                       f"Alertmanager >= {URL_FILE_SINCE} (older ones reject the whole config); "
                       "a plain url (no credentials) works with any version")
    return out


def lint_warnings(files: dict[str, str]) -> list[str]:
    """Every warning and note for a rendered tree (``{relative path: text}``), in a stable order."""
    return datasource_warnings(files) + url_file_notes(files)
