"""grafanalib's output -> Grafana's current dashboard model.

grafanalib emits an old model: schemaVersion 12, nulls, legacy keys (``rows``, ``span``,
``style``...), datasources as bare strings and threshold steps with ``op``/``yaxis``. This
module rewrites it into the model Grafana 11-13 saves (schemaVersion 39), so the JSON
validates against the official schemas and Grafana shows no "changed" on first load.
Pure: dict in, dict out.
"""
from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

import orjson

SCHEMA_VERSION = 39

# Keys grafanalib writes that the current model no longer has.
_LEGACY_DASHBOARD_KEYS = {"rows", "style", "sharedCrosshair", "hideControls", "__inputs", "gnetId", "id"}
_LEGACY_PANEL_KEYS = {"span", "height", "minSpan", "error", "editable", "cacheTimeout", "repeatDirection"}
_TARGET_KEYS = {"expr", "legendFormat", "refId", "instant", "datasource", "interval", "format", "range", "hide"}
_THRESHOLD_KEYS = {"color", "value"}
# What a panel has of its own; the rest (a panel's "body": type, units, thresholds, legend,
# options...) is the same for every model of a shape: 31 bodies for 24,000 panels of 1,000 models.
_OWN_KEYS = ("id", "gridPos", "title", "description", "targets")


_SCALARS = (str, int, float, bool, type(None))
_SCALAR_TYPES = frozenset(_SCALARS)  # exact types: one set lookup instead of an isinstance walk


def to_plain(obj: Any) -> Any:
    """grafanalib objects (attrs classes with ``to_json_data``) -> plain dicts and lists, nulls dropped.

    The current model has no nulls (but for a threshold base step, which ``_thresholds`` writes
    later), so ``None`` values are left out of every mapping in this same walk. Called for about
    400 containers per model dashboard, so plain dicts and lists are told apart by exact type
    first; subclasses and grafanalib objects take the slower path below.
    """
    kind = type(obj)
    if kind is dict:
        return {k: v if type(v) in _SCALAR_TYPES else to_plain(v) for k, v in obj.items() if v is not None}
    if kind is list or kind is tuple:
        return [v if type(v) in _SCALAR_TYPES else to_plain(v) for v in obj]
    if kind in _SCALAR_TYPES or isinstance(obj, _SCALARS):
        return obj
    while hasattr(obj, "to_json_data"):
        obj = obj.to_json_data()
    if type(obj) not in (dict, list, tuple):
        if isinstance(obj, dict):
            obj = dict(obj)
        elif isinstance(obj, (list, tuple)):
            obj = list(obj)
        else:
            return obj
    return to_plain(obj)


@functools.lru_cache(maxsize=None)
def _plugin_options_schema(panel_type: str) -> tuple[dict, dict] | None:
    try:
        text = resources.files("modeldash").joinpath(f"schemas/grafana/{panel_type}.jsonschema.json").read_text()
    except (FileNotFoundError, OSError):
        return None
    defs = json.loads(text)["definitions"]
    return defs.get("Options", {}), defs


def _default_for(prop: dict, defs: dict) -> Any:
    if "default" in prop:
        return prop["default"]
    ref = prop.get("$ref") or next((p.get("$ref") for p in prop.get("allOf", []) if "$ref" in p), None)
    if ref:
        target = defs[ref.rsplit("/", 1)[1]]
        if "default" in target:
            return target["default"]
        if target.get("type") == "object":
            return _complete({}, target, defs)
        if "enum" in target:
            return target["enum"][0]
    if prop.get("type") == "boolean":
        return False
    return None


def _complete(options: dict, schema: dict, defs: dict) -> dict:
    """Fill the keys the plugin's Options schema requires with their documented defaults."""
    out = dict(options)
    props = schema.get("properties", {})
    for key in schema.get("required", []):
        if key not in out:
            value = _default_for(props.get(key, {}), defs)
            if value is not None:
                out[key] = value
        elif isinstance(out[key], dict):
            ref = props.get(key, {}).get("$ref")
            if ref:
                out[key] = _complete(out[key], defs[ref.rsplit("/", 1)[1]], defs)
    return out


def _thresholds(cfg: dict) -> dict:
    steps = []
    for i, step in enumerate(cfg.get("steps") or []):
        value = step.get("value")
        if value == "null" or i == 0:
            value = None  # the base step: Grafana's encoding of -Infinity
        steps.append({"color": step["color"], "value": value})
    return {"mode": cfg.get("mode", "absolute"), "steps": steps}


def _datasource(ref: Any, default: dict) -> dict:
    if isinstance(ref, dict):
        return {k: ref[k] for k in ("type", "uid") if k in ref}
    return dict(default)


def _panel(panel: dict, default_ds: dict) -> dict:
    """One plain panel (JSON, nulls dropped) in the current model."""
    if panel.get("type") == "row":
        return {
            "type": "row",
            "id": panel["id"],
            "title": panel.get("title", ""),
            "collapsed": bool(panel.get("collapsed", False)),
            "gridPos": panel["gridPos"],
            "panels": [_panel(c, default_ds) for c in panel.get("panels", [])],
        }
    body = _panel_body({k: v for k, v in panel.items() if k not in _OWN_KEYS}, default_ds)
    return _with_own_values(body, {k: panel[k] for k in _OWN_KEYS if k in panel})


def _with_own_values(body: dict, own: dict) -> dict:
    """A normalised panel body with the panel's own id, place, title, description and queries."""
    p = dict(body)
    for key in ("id", "gridPos", "title"):
        if key in own:
            p[key] = own[key]
    if own.get("description") not in ("", None):
        p["description"] = own["description"]
    if p.get("type") != "text":
        p["targets"] = _targets(own.get("targets", []), p["datasource"])
    return p


def _targets(raw: list, panel_ds: dict) -> list[dict]:
    targets = []
    for t in raw:
        clean = {k: v for k, v in t.items() if k in _TARGET_KEYS}
        clean["datasource"] = _datasource(t.get("datasource"), panel_ds)
        if not clean.get("hide"):
            clean.pop("hide", None)
        if clean.get("format") == "time_series":
            clean.pop("format")
        if not clean.get("interval"):
            clean.pop("interval", None)
        if clean.get("instant"):
            clean["range"] = False
        else:
            clean.pop("instant", None)
        targets.append(clean)
    return targets


def _panel_body(panel: dict, default_ds: dict) -> dict:
    """Everything of a (non-row) panel but ``_OWN_KEYS``, in the current model."""
    p = {k: v for k, v in panel.items() if k not in _LEGACY_PANEL_KEYS}
    p["datasource"] = _datasource(p.get("datasource"), default_ds)
    if p.get("type") == "text":
        p.pop("datasource")
    for key in ("repeat", "timeFrom", "timeShift", "interval"):
        if p.get(key) in ("", None):
            p.pop(key, None)
    if not p.get("transformations"):
        p.pop("transformations", None)
    if p.get("links") == []:
        p.pop("links")
    if p.get("maxDataPoints") == 100:  # grafanalib's default; Grafana sizes it to the panel width
        p.pop("maxDataPoints")
    if not p.get("hideTimeOverride"):
        p.pop("hideTimeOverride", None)
    if not p.get("transparent"):
        p.pop("transparent", None)
    fc = p.get("fieldConfig")
    if fc is not None:
        defaults = fc.setdefault("defaults", {})
        if "thresholds" in defaults:
            defaults["thresholds"] = _thresholds(defaults["thresholds"])
        if defaults.get("mappings") == []:
            defaults.pop("mappings")
        if defaults.get("color") is None:
            defaults.pop("color", None)
        custom = defaults.get("custom")
        if custom is not None:
            if not custom:
                defaults.pop("custom")
            elif custom.get("stacking") == {}:
                custom["stacking"] = {"mode": "none", "group": "A"}
            elif "stacking" in custom:
                custom["stacking"].setdefault("group", "A")
        for override in fc.setdefault("overrides", []):
            for prop in override.get("properties", []):
                if prop.get("id") == "thresholds" and isinstance(prop.get("value"), dict):
                    prop["value"] = _thresholds(prop["value"])
    if p.get("type") in ("stat",):
        opts = p.setdefault("options", {})
        opts.setdefault("reduceOptions", {})["fields"] = opts.get("reduceOptions", {}).get("fields") or ""
    schema = _plugin_options_schema(p["type"])
    if schema and "options" in p:
        options_schema, defs = schema
        options = p["options"]  # to_plain left no nulls in it
        legend = options.get("legend")
        if isinstance(legend, dict):
            # before _complete: it fills the schema-required boolean with false, hiding every legend
            legend.setdefault("showLegend", legend.get("displayMode") != "hidden")
        p["options"] = _complete(options, options_schema, defs)
    return p


def _json_data(obj: Any) -> Any:
    if hasattr(obj, "to_json_data"):
        return obj.to_json_data()
    raise TypeError(f"not a grafanalib object: {type(obj).__name__}")


# anything but plain JSON values and grafanalib objects (subclasses, dataclasses, dates) goes to
# _json_data, which refuses it: such a panel takes the uncached path
_KEY_OPTIONS = orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME


@functools.lru_cache(maxsize=1024)
def _normalised_body(body_json: bytes, default_ds_json: bytes) -> bytes:
    """A panel body normalised once per distinct body, kept as JSON: each use loads its own copy."""
    return orjson.dumps(_panel_body(to_plain(orjson.loads(body_json)), orjson.loads(default_ds_json)))


def normalise_panel(panel: Any, default_ds: dict) -> dict:
    """One grafanalib panel (or its JSON) in the current model.

    The body is written to JSON by orjson (grafanalib objects through ``to_json_data``) and
    normalised once per distinct text; the panel's own values are added to a fresh copy. Same
    result as ``_panel(to_plain(panel))``, which rows and anything orjson cannot write take.
    """
    while hasattr(panel, "to_json_data"):
        panel = panel.to_json_data()
    if type(panel) is not dict or panel.get("type") == "row":
        return _panel(to_plain(panel), default_ds)
    try:
        body_json = orjson.dumps({k: v for k, v in panel.items() if k not in _OWN_KEYS}, default=_json_data,
                                 option=_KEY_OPTIONS)
        default_json = orjson.dumps(default_ds)
    except TypeError:
        return _panel(to_plain(panel), default_ds)
    body = orjson.loads(_normalised_body(body_json, default_json))
    own = {k: panel[k] for k in _OWN_KEYS if k in panel}
    if type(own.get("targets")) is list:  # only the keys _targets keeps (to_plain of ~15 is most of a panel)
        own["targets"] = [_target_keys(t) for t in own["targets"]]
    return _with_own_values(body, to_plain(own))


def _target_keys(target: Any) -> Any:
    while hasattr(target, "to_json_data"):
        target = target.to_json_data()
    return {k: v for k, v in target.items() if k in _TARGET_KEYS} if type(target) is dict else target


def normalise_dashboard(raw: Any, default_datasource: dict) -> dict:
    """A grafanalib Dashboard (or its JSON) as Grafana's current model: no nulls, no legacy keys."""
    while hasattr(raw, "to_json_data"):
        raw = raw.to_json_data()
    panels = raw.get("panels")
    d = to_plain({k: v for k, v in raw.items() if k != "panels" and k not in _LEGACY_DASHBOARD_KEYS})
    d["panels"] = [normalise_panel(p, default_datasource) for p in (panels if panels is not None else [])]
    d["schemaVersion"] = SCHEMA_VERSION
    d.pop("version", None)  # Grafana owns the version; a stale one makes saves fail
    tp = d.get("timepicker") or {}
    d["timepicker"] = {"refresh_intervals": tp.get("refresh_intervals", ["30s", "1m", "5m", "15m", "30m", "1h"])}
    if not d.get("description"):
        d.pop("description", None)
    d.setdefault("annotations", {"list": []})
    d.setdefault("templating", {"list": []})
    return d
