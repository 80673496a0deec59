"""The fleet overview for fleets of any size: a status table, the ten worst models, firing alerts.

Nothing on it draws one line per model: the table has one row per model (sortable, each row a
link to the model's dashboard), the bar gauges show the top 10 against each model's own
threshold, and every query reads recorded series, so it stays cheap at 1,000 models.
"""
from __future__ import annotations

from modeldash.dashboards.layout import GRID_WIDTH, Slot, assemble, dashboard_link, query_variable
from modeldash.datasources import fleet_signals as fs
from modeldash.panels import fleet_table as ft
from modeldash.panels import slo as slop
from modeldash.spec.fleet import FleetSpec, dashboard_uid

VARIABLES = {"team": "Team", "namespace": "Namespace", "backend": "Serving backend"}


def fleet_variables() -> list[dict]:
    """Filter variables over the generated ``model:info`` series (label values, All by default)."""
    return [query_variable(name, label, f"label_values({fs.INFO}, {name})") for name, label in VARIABLES.items()]


def fleet_dashboard(spec: FleetSpec) -> dict:
    rows = len(spec.models)
    slots = [
        Slot("fleet.status_table", ft.status_table(spec), GRID_WIDTH, min(24, 4 + rows)),
        Slot("fleet.top_latency", ft.top_latency(spec), 8, 9),
        Slot("fleet.top_errors", ft.top_errors(spec), 8, 9),
        Slot("fleet.top_drift", ft.top_drift(spec), 8, 9),
        Slot("fleet.alerts", ft.firing_alert_list(spec), GRID_WIDTH, 8),
        Slot("fleet.slo_budget", slop.fleet_budget(spec, ft.SERIES_LINK), GRID_WIDTH, 6),
    ]
    return assemble(
        spec,
        "fleet",
        dashboard_uid("fleet"),
        f"Fleet / {spec.name}",
        f"All {rows} models of fleet {spec.name}: status against each model's thresholds, the ten worst, "
        "firing alerts.",
        ["modeldash", "layer:fleet"],
        slots,
        variables=fleet_variables(),
        links=[
            dashboard_link("Platform", f"/d/{dashboard_uid('platform')}"),
            dashboard_link("Nodes", f"/d/{dashboard_uid('infrastructure')}"),
        ],
    )
