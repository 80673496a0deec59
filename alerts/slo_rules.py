"""Objectives as rules: layered SLI recording rules and multi-window, multi-burn-rate alerts.

Per model and objective (one rule group per model, evaluated in order):

1. bad-event and all-event rates over the shortest alert window, from the raw counters;
2. the SLI error ratio over every alert window (5m ... 3d): the shortest from (1), every other
   one from the raw counters (a ratio of two ``rate()``s, as Sloth does);
3. the error ratio over the budget window (28d) from (1) as a ratio of sums,
   ``sum_over_time(bad[28d]) / sum_over_time(all[28d])``: count-weighted, never an average of
   ratios (which would weigh a quiet night like a busy day);
4. objective and error budget as constant series, burn rate per window (ratio / budget, one rule
   keeping ``slo_window``) and the remaining budget over the budget window.

Dashboards and alerts read only these recorded series. The page and ticket alerts are one
``AlertDefinition`` each (Grafana twin and Prometheus rule from the same object).
"""
from __future__ import annotations

from modeldash.alerts.cluster_scope import scoped_rules
from modeldash.alerts.recording_rules import RecordingRule
from modeldash.alerts.slo_scenarios import no_cases, slo_cases
from modeldash.dashboards.panel_keys import panel_link
from modeldash.datasources.slo import indicators
from modeldash.spec.base import format_duration

ALERT = "ModelErrorBudgetBurn"  # listed in spec/alert_names.py
ERRORS = "model_slo:sli_error_requests:rate{w}"
REQUESTS = "model_slo:sli_requests:rate{w}"
RATIO = "model_slo:sli_error:ratio_rate{w}"
OBJECTIVE = "model_slo:objective:ratio"
BUDGET = "model_slo:error_budget:ratio"
BURN = "model_slo:burn_rate:ratio"
REMAINING = "model_slo:error_budget_remaining:ratio"
WINDOW_LABEL = "slo_window"
SEVERITY = {"page": "critical", "ticket": "warning"}  # routed by the critical / warning routes


def group_name(model_name: str) -> str:
    return f"modeldash-slo-{model_name}"


def labels_of(model, objective: str) -> dict:
    return {"model": model.name, "namespace": model.namespace, "slo": objective}


def selector(name: str, model, objective: str, window: str | None = None) -> str:
    extra = f', {WINDOW_LABEL}="{window}"' if window else ""
    return f'{name}{{model="{model.name}", slo="{objective}"{extra}}}'


def _num(x: float) -> str:
    x = round(float(x), 12)
    return str(int(x)) if x.is_integer() else repr(x)


def objective_rules(model, ind, slo) -> list[RecordingRule]:
    """The recording rules of one objective, in evaluation order."""
    base = labels_of(model, ind.objective)
    windows = [format_duration(w) for w in slo.alert_windows()]
    w0, period = windows[0], slo.window_text
    errors, requests = ERRORS.format(w=w0), REQUESTS.format(w=w0)
    sel = lambda name: selector(name, model, ind.objective)  # noqa: E731
    rules = [
        RecordingRule(errors, ind.errors(w0), base),
        RecordingRule(requests, ind.total(w0), base),
        RecordingRule(RATIO.format(w=w0), f"{sel(errors)} / {sel(requests)}", {**base, WINDOW_LABEL: w0}),
    ]
    for w in windows[1:]:
        rules.append(RecordingRule(RATIO.format(w=w), ind.error_ratio(w), {**base, WINDOW_LABEL: w}))
    rules.append(RecordingRule(
        RATIO.format(w=period),
        f"sum_over_time({sel(errors)}[{period}]) / sum_over_time({sel(requests)}[{period}])",
        {**base, WINDOW_LABEL: period}))
    budget = 1 - ind.target
    names = "|".join(RATIO.format(w=w) for w in windows + [period])
    rules += [
        RecordingRule(OBJECTIVE, f"vector({_num(ind.target)})", base),
        RecordingRule(BUDGET, f"vector({_num(budget)})", base),
        RecordingRule(BURN, f'{{__name__=~"{names}", model="{model.name}", slo="{ind.objective}"}} / {_num(budget)}',
                      base),
        RecordingRule(REMAINING, f"1 - {selector(BURN, model, ind.objective, period)}",
                      {**base, WINDOW_LABEL: period}),
    ]
    return rules


def slo_recording_rules(spec, model) -> list[RecordingRule]:
    """Every objective's rules; with ``prometheus.multi_cluster`` they keep the cluster label."""
    return scoped_rules(spec, [r for ind in indicators(spec, model) for r in objective_rules(model, ind, model.slo)])


def slo_rule_groups(spec, interval: str) -> list[dict]:
    """One Prometheus rule group per model with objectives (groups evaluate in parallel)."""
    out = []
    for m in spec.models:
        rules = slo_recording_rules(spec, m)
        if rules:
            out.append({"name": group_name(m.name), "interval": interval, "rules": [r.as_prometheus() for r in rules]})
    return out


# --------------------------------------------------------------------------- alerts


def burn_condition(model, objective: str, alternatives) -> str:
    """Any alternative fires: burn rate above its factor over both its long and its short window.
    The value is the long window's burn rate."""
    parts = []
    for a in alternatives:
        long_, short = format_duration(a.long), format_duration(a.short)
        f = _num(a.factor)
        parts.append(
            f"(max without ({WINDOW_LABEL}) ({selector(BURN, model, objective, long_)} > {f}) and "
            f"max without ({WINDOW_LABEL}) ({selector(BURN, model, objective, short)} > {f}))")
    return " or ".join(parts)


def _describe(alternatives) -> str:
    return ", or ".join(f"above {a.factor:g} over {format_duration(a.long)} and {format_duration(a.short)}"
                        for a in alternatives)


def add_slo_alerts(b, m) -> None:
    """Page and ticket definitions of every objective of model ``m`` (``b``: the catalogue builder)."""
    spec = b.spec
    team = spec.team_of(m)
    for ind in indicators(spec, m):
        slo = m.slo
        what = ind.objective
        target = f"{ind.target * 100:.6g}%"
        defs = []
        for kind in ("page", "ticket"):
            alts = getattr(slo.alerts, kind)
            sev = SEVERITY[kind]
            key = f"{what}-{kind}"
            kw = dict(
                name=ALERT, layer="serving", severity=sev, model=m.name, namespace=m.namespace,
                expr=burn_condition(m, what, alts), op=">", threshold=0, for_=0,
                labels=b.labels(sev, "serving", ALERT, team, **{**m.labels, "model": m.name, "namespace": m.namespace,
                                                                "slo": what, "slo_alert": kind}),
                summary=f"{m.name} is burning its {what} error budget too fast ({kind})",
                description=f"Model {m.name} (namespace {m.namespace}) spends its {what} error budget "
                            f"(objective {target} over {slo.window_text}) at a burn rate {_describe(alts)}.",
                runbook_url=b.runbook(ALERT, m), panel=panel_link("model", "slo.burn_rate", m.name),
                group=f"modeldash-model-{m.name}", key=key, no_data_state="OK",
            )
            defs.append(kw)
        cases = slo_cases(ind, slo, m)
        for kw in defs:
            # the page definition carries the cases of both (same alert name: each case expects both)
            kw["scenario"] = cases if kw["key"].endswith("-page") else no_cases()
            b.add(**kw)
