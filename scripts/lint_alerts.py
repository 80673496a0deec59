"""Lint generated alerting artefacts: Grafana rules against the official schema, PrometheusRule
objects against the CRD, group intervals, uids, and that every PromQL expression parses.

``lint_alerts`` takes what render produced: a ``{relative path: text or parsed object}`` map
(``build_files`` / ``RenderContext.parsed``), an output folder, or a list of objects (rule
groups, ProvisionedAlertRules, PrometheusRule manifests). It returns every problem as a line.
"""
from __future__ import annotations

import functools
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

import orjson
import yaml

from modeldash.spec.base import UID_MAX, UID_RE, parse_duration
from modeldash.scripts.promql_check import parse_error
from modeldash.scripts.schema_check import SchemaCheck
from modeldash.scripts.serialise import loads_yaml

from modeldash.scripts.output_alerts import (  # noqa: E402  (the paths the output family writes)
    ALERTMANAGER,
    CONTACT_POINTS,
    GRAFANA_FILE,
    GRAFANA_GROUPS,
    POLICY,
    PROM_RULES,
)
_SECRET_HINT_PARTS = (r"hooks\.slack\.com/services/", r"://[^/\s:@]+:[^/\s@]+@")
_SECRET_HINTS = re.compile("|".join(_SECRET_HINT_PARTS))
_INLINE_SECRET_KEYS = {"api_url", "auth_password", "password", "bearer_token", "credentials", "webhook_url"}


@functools.lru_cache(maxsize=None)
def _grafana_validator(definition: str) -> SchemaCheck:
    text = resources.files("modeldash").joinpath("schemas/grafana/alerting.jsonschema.json").read_text()
    defs = json.loads(text)["definitions"]
    return SchemaCheck({"$ref": f"#/definitions/{definition}", "definitions": defs})


@functools.lru_cache(maxsize=None)
def _crd_validator() -> SchemaCheck:
    path = "schemas/prometheus-operator/monitoring.coreos.com_prometheusrules.yaml"
    crd = yaml.safe_load(resources.files("modeldash").joinpath(path).read_text())
    return SchemaCheck(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"])


def _schema_problems(where: str, validator, obj) -> list[str]:
    return [f"{where}: {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
            for e in sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.absolute_path)))]


def _promql(where: str, expr: Any) -> list[str]:
    if not isinstance(expr, str) or not expr.strip():
        return [f"{where}: empty PromQL expression"]
    err = parse_error(expr)  # cached by shape: every rule appears in four documents
    return [f"{where}: PromQL does not parse: {err}"] if err else []


def _uid(where: str, uid: Any) -> list[str]:
    if not isinstance(uid, str) or not 1 <= len(uid) <= UID_MAX or not UID_RE.match(uid):
        return [f"{where}: uid {uid!r} is not 1-{UID_MAX} characters of a-z, 0-9 and '-' (no '-' at either end)"]
    return []


def _interval(where: str, seconds: Any) -> list[str]:
    if isinstance(seconds, str):
        try:
            seconds = parse_duration(seconds)
        except ValueError as exc:
            return [f"{where}: interval: {exc}"]
    if not isinstance(seconds, (int, float)) or seconds <= 0 or seconds % 10:
        return [f"{where}: interval {seconds!r} is not a positive multiple of 10s"]
    return []


def lint_grafana_rule(rule: dict, where: str = "", schema: bool = True) -> list[str]:
    """``schema=False``: the caller validated the rule already (its RuleGroup holds Rules)."""
    where = where or f"grafana rule {rule.get('uid', '?')}"
    out = _schema_problems(where, _grafana_validator("Rule"), rule) if schema else []
    out += _uid(where, rule.get("uid"))
    data = rule.get("data") or []
    refs = {q.get("refId") for q in data}
    if rule.get("condition") not in refs:
        out.append(f"{where}: condition {rule.get('condition')!r} is not a refId of data")
    for q in data:
        model = q.get("model") or {}
        if q.get("datasourceUid") == "__expr__":
            if model.get("type") == "classic_conditions":
                out.append(f"{where}: refId {q.get('refId')}: classic_conditions (use reduce + threshold/math)")
        elif "expr" in model:
            out += _promql(f"{where}: refId {q.get('refId')}", model["expr"])
    ann = rule.get("annotations") or {}
    if ("__dashboardUid__" in ann) != ("__panelId__" in ann):
        out.append(f"{where}: __dashboardUid__ and __panelId__ must be set together")
    try:
        parse_duration(rule.get("for", ""))
    except ValueError as exc:
        out.append(f"{where}: for: {exc}")
    return out


def lint_grafana_groups(groups: list[dict]) -> list[str]:
    out, seen = [], {}
    for g in groups:
        where = f"rule group {g.get('title', '?')}"
        out += _schema_problems(where, _grafana_validator("RuleGroup"), g)
        out += _interval(where, g.get("interval"))
        for rule in g.get("rules") or []:
            out += lint_grafana_rule(rule, schema=False)  # the RuleGroup schema checked it
            uid = rule.get("uid")
            if uid in seen:
                out.append(f"grafana rule {uid}: uid also used in group {seen[uid]}")
            seen[uid] = g.get("title")
    return out


def lint_grafana_file(doc: dict, dumped: bytes | None = None) -> list[str]:
    """``dumped``: ``doc`` as orjson wrote it, when render has it (the secrets search reuses it)."""
    out = []
    if doc.get("apiVersion") != 1:
        out.append(f"{GRAFANA_FILE}: apiVersion must be 1")
    for g in doc.get("groups") or []:
        where = f"{GRAFANA_FILE}: group {g.get('name', '?')}"
        out += _interval(where, g.get("interval"))
        for rule in g.get("rules") or []:
            rwhere = f"{where}: rule {rule.get('uid', '?')}"
            out += _uid(rwhere, rule.get("uid"))
            for q in rule.get("data") or []:
                if "expr" in (q.get("model") or {}):
                    out += _promql(rwhere, q["model"]["expr"])
    return out + _secrets(GRAFANA_FILE, doc, dumped=dumped)


def lint_prometheus_rules(doc: dict, where: str = PROM_RULES) -> list[str]:
    """A rules file: PromQL parses, intervals, and the groups fit the PrometheusRule CRD."""
    out = []
    for g in doc.get("groups") or []:
        gwhere = f"{where}: group {g.get('name', '?')}"
        if "interval" in g:
            out += _interval(gwhere, g["interval"])
        for r in g.get("rules") or []:
            out += _promql(f"{gwhere}: {r.get('alert') or r.get('record')}", r.get("expr"))
    # each group as its own PrometheusRule: the validator copies what it checks, and a
    # 1,000-model rules file at once is tens of MB more memory for the same errors
    groups = doc.get("groups")
    parts = [(f" group {i}", {**doc, "groups": [g]}) for i, g in enumerate(groups)] if isinstance(groups, list) and groups else [("", doc)]
    for label, spec in parts:
        manifest = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
                    "metadata": {"name": "lint"}, "spec": spec}
        out += _schema_problems(f"{where}{label} (as PrometheusRule)", _crd_validator(), manifest)
    return out


def lint_prometheus_rule_manifest(obj: dict) -> list[str]:
    where = f"PrometheusRule {obj.get('metadata', {}).get('name', '?')}"
    out = _schema_problems(where, _crd_validator(), obj)
    if not (obj.get("metadata", {}).get("labels") or {}).get("release"):
        out.append(f"{where}: no 'release' label: kube-prometheus-stack will not select it")
    return out + lint_prometheus_rules(obj.get("spec") or {}, where)


# one pattern per hint: each starts with a literal that re scans for in C (the alternation of
# both tried every position of a 50 MB document: 10x slower)
_SECRET_IN_JSON = (*(re.compile(part.encode()) for part in _SECRET_HINT_PARTS),
                   re.compile(('"(?:' + "|".join(sorted(_INLINE_SECRET_KEYS)) + ')":').encode()))


def _secrets(where: str, obj: Any, path: str = "", dumped: bytes | None = None) -> list[str]:
    """Inline secrets: a Slack webhook URL or credentials in a URL, or an inline password key.

    A 1,000-model rule file has ~1.5 million values: the document is searched as JSON first
    (in C) and walked, to name the path, only when that finds a hint. JSON escaping never hides
    a match: every character the patterns look for is written as itself. ``dumped``: the
    document as orjson wrote it (render's own bytes), else it is dumped here."""
    if not path:
        text = dumped if dumped is not None else orjson.dumps(obj, default=str)
        if not any(p.search(text) for p in _SECRET_IN_JSON):
            return []
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in _INLINE_SECRET_KEYS and isinstance(v, str) and v and not v.startswith("$"):
                out.append(f"{where}: {path}{k}: inline secret (reference an env var or a mounted file)")
            out += _secrets(where, v, f"{path}{k}.")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _secrets(where, v, f"{path}{i}.")
    elif isinstance(obj, str) and _SECRET_HINTS.search(obj):
        out.append(f"{where}: {path.rstrip('.')}: looks like an inline secret URL")
    return out


def _load(rel: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    return json.loads(value) if rel.endswith(".json") else loads_yaml(value)


def lint_alerts(files_or_objects: dict | Path | str | Iterable, dumped: dict[str, bytes] | None = None) -> list[str]:
    """Every problem in the alerting artefacts, one line each (empty list: all good).

    ``dumped``: for objects given parsed, the bytes orjson wrote for them (render's own output)."""
    if isinstance(files_or_objects, (str, Path)):
        root = Path(files_or_objects)
        files = {str(p.relative_to(root)): p.read_text(encoding="utf-8")
                 for p in root.rglob("*") if p.is_file() and p.suffix in (".json", ".yaml")}
    elif isinstance(files_or_objects, dict):
        files = files_or_objects
    else:
        out = []
        for obj in files_or_objects:
            if obj.get("kind") == "PrometheusRule":
                out += lint_prometheus_rule_manifest(obj)
            elif "rules" in obj and "folderUid" in obj:
                out += lint_grafana_groups([obj])
            elif "condition" in obj:
                out += lint_grafana_rule(obj)
            else:
                out.append(f"unknown alerting object with keys {sorted(obj)[:5]}")
        return out
    out = []
    for rel, value in sorted(files.items()):
        rel = rel.replace("\\", "/")
        try:
            if rel == GRAFANA_GROUPS:
                out += lint_grafana_groups(_load(rel, value))
            elif rel == CONTACT_POINTS:
                for cp in _load(rel, value):
                    out += _schema_problems(f"contact point {cp.get('uid', '?')}", _grafana_validator("ContactPoint"), cp)
                    out += _uid(f"contact point {cp.get('name', '?')}", cp.get("uid"))
                out += _secrets(rel, _load(rel, value))
            elif rel == POLICY:
                obj = _load(rel, value)
                out += _schema_problems(rel, _grafana_validator("NotificationPolicy"), obj)
            elif rel == GRAFANA_FILE:
                out += lint_grafana_file(_load(rel, value), (dumped or {}).get(rel))
            elif rel == PROM_RULES:
                out += lint_prometheus_rules(_load(rel, value))
            elif rel == ALERTMANAGER:
                out += _secrets(rel, _load(rel, value))
        except (ValueError, yaml.YAMLError, AttributeError, TypeError) as exc:
            out.append(f"{rel}: cannot read: {exc.__class__.__name__}")
    return out
