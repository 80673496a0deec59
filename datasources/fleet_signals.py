"""Fleet status from recorded series: one row per model, judged against the model's own thresholds.

At 1,000 models a status query cannot carry 1,000 thresholds, so every model's thresholds and
identity are generated as constant recorded series (evaluated by Prometheus, a few bytes each):

- ``model:info{model, namespace, team, backend} 1``: what the filters of the fleet view need;
- ``model:threshold{model, signal, level, key} <value>``: each level of ``datasources.thresholds``.

A status query then divides a recorded value by its threshold ``on (model)`` (``on (model,
feature, method)`` for drift): 1 is at the model's own threshold, so fixed colours (green
below 1, red from 1) judge every row by its own level, in one query for the whole fleet.
"""
from __future__ import annotations

from modeldash.datasources import metrics as m
from modeldash.datasources import thresholds as th

INFO = "model:info"
THRESHOLD = "model:threshold"
ROW = ("model",)  # what one row of the fleet view is
INFO_LABELS = ("namespace", "team", "backend")


def _quote(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"')


class Regex(str):
    """A matcher value matched as a regular expression (``=~``), e.g. a Grafana variable."""


FILTERS = {k: Regex(f"${k}") for k in ("team", "namespace", "backend")}  # label -> fleet variable


def selector(name: str, **matchers: str) -> str:
    """``name{k="v", ...}``, sorted; ``Regex`` values match with ``=~``."""
    inner = ", ".join(f'{k}{"=~" if isinstance(v, Regex) else "="}"{_quote(v)}"' for k, v in sorted(matchers.items()))
    return f"{name}{{{inner}}}"


def by(*extra: str) -> str:
    return f"by ({', '.join(ROW + extra)})"


def on(*extra: str) -> str:
    return f"on ({', '.join(ROW + extra)})"


# --------------------------------------------------------------------------- generated series


def info_rule(spec, model) -> tuple[str, str, dict]:
    labels = {"model": model.name, "namespace": model.namespace, "team": spec.team_of(model),
              "backend": spec.backend_for(model).name}
    return INFO, "vector(1)", labels


def threshold_rules(spec, model) -> list[tuple[str, str, dict]]:
    """One constant series per threshold level the model's alerts use."""
    levels = th.model_levels(model)
    if spec.error_backend_for(model) is None:  # no status codes: no error alert, no error level
        levels = [lv for lv in levels if lv.signal != "error_ratio"]
    out = []
    for lv in levels:
        labels = {"model": model.name, "signal": lv.signal, "level": lv.level}
        if lv.signal == "drift":
            labels.update(feature=lv.key, method=model.thresholds.drift.method)
        elif lv.key:
            labels["key"] = lv.key
        out.append((THRESHOLD, f"vector({lv.value!r})", labels))
    return out


def fleet_rules(spec) -> list[tuple[str, str, dict]]:
    return [r for mo in spec.models for r in [info_rule(spec, mo), *threshold_rules(spec, mo)]]


# --------------------------------------------------------------------------- queries


def filtered_info(**fixed: str) -> str:
    """The info series of the models the fleet filters (or ``fixed`` matchers) select."""
    return selector(INFO, **(fixed or FILTERS))


def keep_selected(expr: str, **fixed: str) -> str:
    """``expr`` restricted to the selected models, its labels unchanged."""
    return f"({expr}) and {on()} {filtered_info(**fixed)}"


def per_model(name: str, how: str = "max", **matchers: str) -> str:
    return f"{how} {by()} ({selector(name, **matchers)})"


def threshold(signal: str, level: str | None = None, **matchers: str) -> str:
    extra = {"signal": signal, **({"level": level} if level else {}), **matchers}
    return selector(THRESHOLD, **extra)


def ratio_to_threshold(value: str, signal: str, join: tuple[str, ...] = (), key: str | None = None,
                       op: str = th.HIGHER_IS_BAD, level_name: str = "warning") -> str:
    """``value`` against the model's ``level_name`` threshold: 1 is at it, above 1 is past it.

    For a floor (``op`` ``<``, e.g. accuracy) the ratio is threshold / value, so above 1 is
    still the bad side. ``value`` is labelled like the rows plus ``join``.
    """
    thr = threshold(signal, level_name, **({"key": key} if key else {}))
    if op == th.LOWER_IS_BAD:
        return f"max {by()} ({thr} / {on(*join)} group_right () ({value}))"
    return f"max {by()} (({value}) / {on(*join)} group_left () {thr})"


def drift_scores() -> str:
    """Every monitored feature's drift score, in the method the model's alert uses."""
    return f"max {by('feature', 'method')} ({m.DRIFT_SCORE.name} and {on('feature', 'method')} {threshold('drift')})"


def worst_drift() -> str:
    return f"max {by()} ({drift_scores()})"


def worst_drift_ratio() -> str:
    return ratio_to_threshold(drift_scores(), "drift", join=("feature", "method"))


def headline_quality() -> str:
    """Accuracy of the classifiers, RMSE of the regressors (one column, the alert's metric)."""
    acc, rmse = th.QUALITY["accuracy"][0], th.QUALITY["rmse"][0]
    return f"{per_model(acc.name)} or {per_model(rmse.name)}"


def headline_quality_ratio() -> str:
    acc, rmse = th.QUALITY["accuracy"][0], th.QUALITY["rmse"][0]
    return (f"{ratio_to_threshold(per_model(acc.name), 'quality', key='accuracy', op=th.LOWER_IS_BAD)} or "
            f"{ratio_to_threshold(per_model(rmse.name), 'quality', key='rmse')}")


def firing_alerts(managed: tuple[str, str], present: str, **fixed: str) -> str:
    """Firing modeldash alerts per model; 0 for a model without any.

    ``present`` is a recorded per-model series: the zeros follow its rows (one per cluster when
    several), and the info series fills in models that have none.
    """
    alerts = selector("ALERTS", alertstate="firing", **{managed[0]: managed[1]})
    rows = f"max {by()} ({present}) or {on()} max {by()} ({filtered_info(**fixed)})"
    return f"count {by()} ({alerts}) or 0 * ({rows})"
