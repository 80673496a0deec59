"""The fleet overview: every model's traffic, p95 latency, error ratio and worst drift.

Each series carries a ``model`` label and a data link to that model's dashboard.
"""
from __future__ import annotations

import grafanalib.core as g

from modeldash.dashboards.layout import GRID_WIDTH, Slot, assemble, dashboard_link
from modeldash.dashboards.spec import FleetSpec, ModelSpec, dashboard_uid
from modeldash.datasources import metrics as m
from modeldash.panels.common import PERCENT_UNIT, RATE, REQ_RATE, SHORT, Query, levels, timeseries
from modeldash.panels.serving import target

# A data link on every series; the schema types field links like dashboard links.
MODEL_LINK = dashboard_link(
    "Open ${__field.labels.model}", f"/d/{dashboard_uid('model', '')}" + "-${__field.labels.model}?${__url_time_range}"
)


def _labelled(expr: str, model: ModelSpec) -> str:
    return f'label_replace({expr}, "model", "{model.name}", "", "")'


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
    queries = [
        Query(_labelled(spec.backend_for(mo).request_rate(target(mo), RATE), mo), "{{model}}") for mo in spec.models
    ]
    return _linked(timeseries(
        "Traffic per model",
        "Requests per second of every model. A model dropping to zero while others keep traffic is an outage "
        "of that model; click a series to open its dashboard.",
        queries,
        REQ_RATE,
    ))


def latency_p95(spec: FleetSpec):
    queries = []
    for mo in spec.models:
        b = spec.backend_for(mo)
        expr = b.latency_quantile(0.95, target(mo), RATE)
        if b.seconds_per_unit != 1:
            expr = f"({expr}) * {b.seconds_per_unit:g}"  # every backend shown in seconds
        queries.append(Query(_labelled(expr, mo), "{{model}}"))
    t = spec.defaults.thresholds.latency_p95
    return _linked(timeseries(
        "p95 latency per model",
        "95th-percentile latency of every model, in seconds whatever its backend's unit. Lines: the fleet's "
        "default p95 warning and critical levels (models may override them).",
        queries,
        "s",
        levels(t.warning, t.critical),
        min_value=0,
    ))


def error_ratio(spec: FleetSpec):
    queries = []
    for mo in spec.models:
        b = spec.error_backend_for(mo)
        if b is not None:
            queries.append(Query(_labelled(b.error_ratio(target(mo), RATE, "5xx"), mo), "{{model}}"))
    t = spec.defaults.thresholds.error_ratio
    return _linked(timeseries(
        "5xx error ratio per model",
        "Share of requests failing with 5xx, per model (models without a status-code source are not shown).",
        queries,
        PERCENT_UNIT,
        levels(t.warning, t.critical),
        min_value=0,
    ))


def worst_drift(spec: FleetSpec):
    names = "|".join(mo.name for mo in spec.models)
    expr = f'max by (model) ({m.DRIFT_SCORE.name}{{model=~"{names}"}})'
    return _linked(timeseries(
        "Worst feature drift per model",
        "The highest drift score of any feature of each model. Above the line (the fleet default threshold), "
        "open the model's dashboard to see which feature moved.",
        [Query(expr, "{{model}}")],
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
        links=[
            dashboard_link("Platform", f"/d/{dashboard_uid('platform')}"),
            dashboard_link("Nodes", f"/d/{dashboard_uid('infrastructure')}"),
        ],
    )
