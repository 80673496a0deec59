"""The fleet overview: every model's traffic, p95 latency, error ratio and worst drift.

The serving panels read the recorded per-model series (``datasources/recorded.py``): one query per
panel whatever the fleet's size and backends, in seconds and ratios. Each series carries a
``model`` label and a data link to that model's dashboard.
"""
from __future__ import annotations

import grafanalib.core as g

from modeldash.dashboards.layout import GRID_WIDTH, Slot, assemble, custom_variable, dashboard_link
from modeldash.spec.fleet import FleetSpec, dashboard_uid
from modeldash.datasources import metrics as m
from modeldash.datasources import recorded
from modeldash.datasources.selectors import per_model
from modeldash.panels.common import PERCENT_UNIT, REQ_RATE, SHORT, Query, levels, timeseries

# A data link on every series; the schema types field links like dashboard links.
MODEL_LINK = dashboard_link(
    "Open ${__field.labels.model}", f"/d/{dashboard_uid('model', '')}" + "-${__field.labels.model}?${__url_time_range}"
)


def _linked(panel):
    panel.extraJson = {"fieldConfig": {"defaults": {"links": [MODEL_LINK]}}}
    return panel


def models_table(spec: FleetSpec):
    lines = ["| Model | Task | Namespace | Serving | Team |", "|---|---|---|---|---|"]
    for model in spec.models:
        lines.append(
            f"| [{model.name}](/d/{model.dashboard_uid}) | {model.task} | {model.namespace} | "
            f"{spec.backend_for(model).title} | {spec.team_of(model)} |"
        )
    return g.Text(
        title="Models",
        description="Every model of the fleet, linking to its dashboard.",
        content="\n".join(lines),
        mode="markdown",
    )


def traffic(spec: FleetSpec):
    return _linked(timeseries(
        "Traffic per model",
        "Requests per second of every model (recording rule model:requests:rate5m). A model dropping to zero "
        "while others keep traffic is an outage of that model; click a series to open its dashboard.",
        [Query(per_model(recorded.REQUEST_RATE, "sum"), "{{model}}")],
        REQ_RATE,
    ))


def latency_p95(spec: FleetSpec):
    t = spec.defaults.thresholds.latency_p95
    return _linked(timeseries(
        "p95 latency per model",
        "95th-percentile latency of every model in seconds, whatever its backend's unit (recording rule "
        "model:request_latency_seconds:p95_5m). Lines: the fleet's default p95 warning and critical levels "
        "(models may override them).",
        [Query(per_model(recorded.LATENCY_P95), "{{model}}")],
        "s",
        levels(t.warning, t.critical),
        min_value=0,
    ))


def error_ratio(spec: FleetSpec):
    t = spec.defaults.thresholds.error_ratio
    return _linked(timeseries(
        "5xx error ratio per model",
        "Share of requests failing with 5xx, per model (recording rule model:request_errors_5xx:ratio_rate5m; "
        "models without a status-code source have none).",
        [Query(per_model(recorded.ERROR_RATIO), "{{model}}")],
        PERCENT_UNIT,
        levels(t.warning, t.critical),
        min_value=0,
    ))


def worst_drift(spec: FleetSpec):
    return _linked(timeseries(
        "Worst feature drift per model",
        "The highest drift score of any feature of each model. Above the line (the fleet default threshold), "
        "open the model's dashboard to see which feature moved.",
        [Query(per_model(m.DRIFT_SCORE.name), "{{model}}")],
        SHORT,
        levels(spec.defaults.thresholds.drift.threshold),
        min_value=0,
    ))


def fleet_dashboard(spec: FleetSpec) -> dict:
    slots = [
        Slot("fleet.models", models_table(spec), GRID_WIDTH, 3 + len(spec.models) if len(spec.models) < 20 else 20),
        Slot("fleet.traffic", traffic(spec)),
        Slot("fleet.latency_p95", latency_p95(spec)),
        Slot("fleet.error_ratio", error_ratio(spec)),
        Slot("fleet.worst_drift", worst_drift(spec)),
    ]
    return assemble(
        spec,
        "fleet",
        dashboard_uid("fleet"),
        f"Fleet / {spec.name}",
        f"All {len(spec.models)} models of fleet {spec.name}: traffic, latency, errors and drift side by side.",
        ["modeldash", "layer:fleet"],
        slots,
        variables=[custom_variable("model", "Model", [mo.name for mo in spec.models])],
        links=[
            dashboard_link("Platform", f"/d/{dashboard_uid('platform')}"),
            dashboard_link("Nodes", f"/d/{dashboard_uid('infrastructure')}"),
        ],
    )
