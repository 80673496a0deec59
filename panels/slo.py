"""Objectives: remaining error budget, burn rate over the alert windows, budget spent over the window.

Every query reads the recorded ``model_slo:*`` series (``alerts/slo_rules.py``), never raw counters,
so a panel costs the same whatever the backend and the window length.
"""
from __future__ import annotations

import grafanalib.core as g

from modeldash.alerts import slo_rules as sr
from modeldash.datasources import fleet_signals as fs
from modeldash.panels.common import GREEN, ORANGE, PERCENT_UNIT, RED, SHORT, Query, stat, timeseries
from modeldash.spec.base import format_duration

FLEET_BOTTOM = 15  # models shown on the fleet panel: the ones with the least budget left


def _budget_levels() -> list[g.Threshold]:
    return [g.Threshold(RED, 0, 0.0), g.Threshold(ORANGE, 1, 0.0), g.Threshold(GREEN, 2, 0.25)]


def _sel(name: str, model, extra: str = "") -> str:
    return f'{name}{{model="{model.name}"{extra}}}'


def budget_remaining(spec, model):
    slo = model.slo
    if slo is None:
        return None
    return stat(
        "Error budget remaining",
        f"Share of each objective's error budget left over the last {slo.window_text} (recording rule "
        f"{sr.REMAINING}). Below zero the objective is missed for the window: freeze risky rollouts and spend "
        "the time on reliability.",
        [Query(_sel(sr.REMAINING, model), "{{slo}}", instant=True)],
        PERCENT_UNIT,
        _budget_levels(),
        color_mode="background",
    )


def burn_rate(spec, model):
    slo = model.slo
    if slo is None:
        return None
    alts = [(a.factor, ORANGE) for a in slo.alerts.ticket] + [(a.factor, RED) for a in slo.alerts.page]
    steps = [g.Threshold(GREEN, 0, 0.0)] + [
        g.Threshold(color, i + 1, float(f)) for i, (f, color) in enumerate(sorted(alts))]
    windows = "|".join(format_duration(w) for w in slo.alert_windows())
    return timeseries(
        "Burn rate over the alert windows",
        "How many times faster than sustainable each objective spends its budget, per window (1 = the budget "
        "lasts exactly the window). Lines: ticket factors (orange) and page factors (red); an alert needs "
        "both its long and its short window above the line (ModelErrorBudgetBurn).",
        [Query(_sel(sr.BURN, model, f', {sr.WINDOW_LABEL}=~"{windows}"'), "{{slo}} {{slo_window}}")],
        SHORT,
        steps,
        min_value=0,
    )


def budget_consumption(spec, model):
    slo = model.slo
    if slo is None:
        return None
    panel = timeseries(
        f"Error budget spent over {slo.window_text}",
        f"Share of each objective's budget spent over the {slo.window_text} window ending at each point "
        "(burn rate over the whole window). Reaching 100 % means the objective is missed. The panel always "
        "shows the whole window, whatever the dashboard's time range.",
        [Query(_sel(sr.BURN, model, f', {sr.WINDOW_LABEL}="{slo.window_text}"'), "{{slo}}")],
        PERCENT_UNIT,
        [g.Threshold(GREEN, 0, 0.0), g.Threshold(ORANGE, 1, 0.75), g.Threshold(RED, 2, 1.0)],
        min_value=0,
    )
    panel.timeFrom = slo.window_text
    return panel


def fleet_budget(spec, link: dict | None = None):
    """The models with the least budget left, bounded so it stays readable at 1,000 models.

    Restricted to the models the fleet's team / namespace / backend filters select (``model:info``);
    ``link`` is the fleet's per-series data link to a model's dashboard."""
    if not any(m.slo is not None for m in spec.models):
        return None
    expr = f"bottomk({FLEET_BOTTOM}, min by (model) ({fs.keep_selected(sr.REMAINING)}))"
    return stat(
        "Least error budget remaining",
        f"The {FLEET_BOTTOM} models (of the selection) with the least error budget left, worst objective per "
        f"model (recording rule {sr.REMAINING}). Open a model's dashboard to see which objective burns.",
        [Query(expr, "{{model}}", instant=True)],
        PERCENT_UNIT,
        _budget_levels(),
        links=[link] if link else None,
        color_mode="background",
    )
