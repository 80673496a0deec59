"""The fleet overview's panels: a status table (one row per model), top-10 bar gauges, firing alerts.

Every query reads recorded series and the generated ``model:info`` / ``model:threshold``
series (``datasources.fleet_signals``), so each panel is one query per column whatever the
fleet's size, and each cell is judged against the model's own thresholds.
"""
from __future__ import annotations

from modeldash.alerts import recording_rules as rr
from modeldash.datasources import fleet_signals as fs
from modeldash.spec.alerting import MANAGED_LABEL
from modeldash.panels.common import (
    DATASOURCE, GREEN, ORANGE, PERCENT_UNIT, RED, Query, RawPanel, field_link, names_matcher, target,
)
from modeldash.spec.base import dashboard_uid

MODEL_URL = "/d/" + dashboard_uid("model", "") + "-%s?${__url_time_range}"  # model dashboards: md-model-<name>
ROW_LINK = field_link("Open the dashboard of ${__data.fields.model}", MODEL_URL % "${__data.fields.model}")
SERIES_LINK = field_link("Open the dashboard of ${__field.labels.model}", MODEL_URL % "${__field.labels.model}")
RATIO_STEPS = {"mode": "absolute", "steps": [{"color": GREEN, "value": None}, {"color": ORANGE, "value": 0.8},
                                             {"color": RED, "value": 1}]}
COUNT_STEPS = {"mode": "absolute", "steps": [{"color": GREEN, "value": None}, {"color": RED, "value": 1}]}


def _recorded(name: str, how: str = "max") -> str:
    return fs.per_model(name, how)


def columns() -> list[tuple[str, str, str]]:
    """(column title, kind, query) of the status table in display order; kind: value | ratio | count.

    A ratio column is the value over the model's own warning threshold (1.00 = at it), so one
    set of colours judges every row by its own level.
    """
    p95 = _recorded(rr.RECORDED_LATENCY_P95)
    errors = _recorded(rr.RECORDED_ERROR_RATIO)
    return [
        ("Requests/s", "value", _recorded(rr.RECORDED_REQUEST_RATE, "sum")),
        ("p95 (s)", "value", p95),
        ("p95 / threshold", "ratio", fs.ratio_to_threshold(p95, "latency_p95")),
        ("5xx (%)", "value", f"100 * {errors}"),
        ("5xx / threshold", "ratio", fs.ratio_to_threshold(errors, "error_ratio")),
        ("Worst drift", "value", fs.worst_drift()),
        ("Drift / threshold", "ratio", fs.worst_drift_ratio()),
        ("Accuracy or RMSE", "value", fs.headline_quality()),
        ("Quality / threshold", "ratio", fs.headline_quality_ratio()),
        ("Firing alerts", "count", fs.firing_alerts(MANAGED_LABEL, rr.RECORDED_REQUEST_RATE)),
    ]


def _ref(i: int) -> str:
    return chr(ord("A") + i)


def _coloured(names: list[str], steps: dict) -> dict:
    return {"matcher": names_matcher(*names),
            "properties": [{"id": "thresholds", "value": steps},
                           {"id": "custom.cellOptions", "value": {"type": "color-background", "mode": "basic"}}]}


def status_table(spec) -> RawPanel:
    """One row per model: identity, traffic, p95, 5xx, drift, quality, firing alerts; each ratio
    cell coloured against that model's own thresholds, every row a link to the model's dashboard."""
    cols = columns()
    info = fs.filtered_info()
    rename = {"model": "Model", "team": "Team", "namespace": "Namespace", "backend": "Backend"}
    if spec.prometheus.multi_cluster:  # one row per model and cluster it serves in
        serving = f"0 * max {fs.by()} ({rr.RECORDED_REQUEST_RATE}) + 1"
        info = f"{info} * {fs.on()} group_right ({', '.join(fs.INFO_LABELS)}) ({serving})"
        rename = {"model": "Model", spec.prometheus.cluster_label: "Cluster", **dict(list(rename.items())[1:])}
    info = f"max {fs.by(*fs.INFO_LABELS)} ({info})"
    targets = [target(Query(info, instant=True), "A", table=True)]
    order = {name: i for i, name in enumerate(rename)}
    for i, (title, _kind, expr) in enumerate(cols, start=1):
        targets.append(target(Query(fs.keep_selected(expr), instant=True), _ref(i), table=True))
        rename[f"Value #{_ref(i)}"] = title
        order[f"Value #{_ref(i)}"] = len(order)
    overrides = [_coloured([t for t, k, _ in cols if k == "ratio"], RATIO_STEPS),
                 _coloured([t for t, k, _ in cols if k == "count"], COUNT_STEPS)]
    return RawPanel({
        "type": "table",
        "title": "Model status",
        "description": (
            "One row per model, from the recorded series: traffic, p95 latency, 5xx share, the worst drift score "
            "of any feature and the latest accuracy (classifiers) or RMSE (regressors). Each '/ threshold' column "
            "divides the value by that model's own warning threshold: 1.00 is at it (its alert's level), red from "
            "there, orange from 0.80. Sort by any column; click a row to open the model's dashboard."),
        "datasource": DATASOURCE,
        "targets": targets,
        "transformations": [
            {"id": "merge", "options": {}},
            {"id": "organize", "options": {"excludeByName": {"Time": True, "Value #A": True}, "indexByName": order,
                                           "renameByName": rename}},
        ],
        "fieldConfig": {"defaults": {"custom": {"align": "auto", "inspect": False, "filterable": True},
                                     "decimals": 2, "links": [ROW_LINK],
                                     "thresholds": {"mode": "absolute", "steps": [{"color": GREEN, "value": None}]}},
                        "overrides": overrides},
        "options": {"showHeader": True, "cellHeight": "sm", "frameIndex": 0,
                    "footer": {"show": False, "reducer": ["sum"], "countRows": False},
                    "sortBy": [{"displayName": "Firing alerts", "desc": True}]},
    })


def top_worst(title: str, description: str, expr: str) -> RawPanel:
    """The ten models closest to (or furthest past) their own threshold; 100 % is the threshold."""
    q = Query(f"topk(10, {fs.keep_selected(expr)})", "{{model}}", instant=True)
    return RawPanel({
        "type": "bargauge",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "targets": [target(q, "A")],
        "fieldConfig": {"defaults": {
            "unit": PERCENT_UNIT, "min": 0, "max": 2, "decimals": 0,
            "thresholds": RATIO_STEPS,
            "links": [SERIES_LINK],
        }, "overrides": []},
        "options": {"displayMode": "gradient", "orientation": "horizontal", "showUnfilled": True,
                    "valueMode": "color", "namePlacement": "left", "sizing": "auto",
                    "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}},
    })


def top_latency(spec) -> RawPanel:
    return top_worst(
        "Top 10: p95 latency vs threshold",
        "The ten models whose p95 latency is highest relative to their own p95 warning level (100 % = at it).",
        fs.ratio_to_threshold(_recorded(rr.RECORDED_LATENCY_P95), "latency_p95"))


def top_errors(spec) -> RawPanel:
    return top_worst(
        "Top 10: 5xx ratio vs threshold",
        "The ten models whose 5xx ratio is highest relative to their own warning level (100 % = at it).",
        fs.ratio_to_threshold(_recorded(rr.RECORDED_ERROR_RATIO), "error_ratio"))


def top_drift(spec) -> RawPanel:
    return top_worst(
        "Top 10: drift vs threshold",
        "The ten models whose most drifted feature is closest to its drift threshold (100 % = ModelDriftHigh).",
        fs.worst_drift_ratio())


def firing_alert_list(spec) -> RawPanel:
    """Grafana's alert list of firing and pending modeldash alerts (Grafana-managed rules).

    Grafana publishes no options schema for this panel (no panelcfg.cue); the keys are those of
    its ``UnifiedAlertListOptions`` (public/app/plugins/panel/alertlist/types.ts).
    """
    name, value = MANAGED_LABEL
    return RawPanel({
        "type": "alertlist",
        "title": "Firing modeldash alerts",
        "description": "Every firing or pending alert generated by modeldash, newest first; click one for its "
                       "rule, runbook and panel.",
        "options": {"viewMode": "list", "groupMode": "default", "groupBy": [], "maxItems": 50, "sortOrder": 3,
                    "dashboardAlerts": False, "alertName": "", "alertInstanceLabelFilter": f'{{{name}="{value}"}}',
                    "stateFilter": {"firing": True, "pending": True, "recovering": False, "noData": False,
                                    "normal": False, "error": True},
                    "showInstances": True, "showInactiveAlerts": False},
    })
