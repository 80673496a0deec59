"""The per-model dashboard: serving, model behaviour and workload rows for one model."""
from __future__ import annotations

from modeldash.dashboards.layout import GRID_WIDTH, Slot, assemble, dashboard_link, row_slot
from modeldash.spec.fleet import FleetSpec, ModelSpec, dashboard_uid
from modeldash.panels import model as mp
from modeldash.panels.annotations import model_annotations
from modeldash.panels.status import STATUS_PANELS
from modeldash.panels import platform as pp
from modeldash.panels import serving as sp
from modeldash.panels import slo as slop
from modeldash.panels.platform import Scope


def workload_scope(model: ModelSpec) -> Scope:
    """The model's predictor pods, Deployments and HPAs (KServe names them ``<isvc>-predictor...``)."""
    return Scope(namespace=model.namespace, workload=f"{model.isvc}-predictor.*")


def model_dashboard(spec: FleetSpec, model: ModelSpec) -> dict:
    scope = workload_scope(model)
    backend = spec.backend_for(model)
    slots = [
        row_slot("row.status", "Status now (coloured by this model's alert levels)"),
        *[Slot(key, make(spec, model), 4, 4) for key, make in STATUS_PANELS],
        row_slot("row.serving", f"Serving ({backend.title})"),
        Slot("serving.request_rate", sp.request_rate(spec, model)),
        Slot("serving.latency", sp.latency(spec, model)),
        Slot("serving.error_ratio", sp.error_ratio(spec, model)),
        Slot("serving.status_rates", sp.status_rates(spec, model)),
        Slot("serving.queue_depth", sp.queue_depth(spec, model)),
        Slot("serving.pod_share", sp.pod_share(spec, model)),
        row_slot("row.model", "Model behaviour"),
        Slot("model.class_share", mp.class_share(spec, model)),
        Slot("model.confidence", mp.confidence(spec, model)),
        Slot("model.prediction_value", mp.prediction_value(spec, model)),
        Slot("model.drift", mp.drift(spec, model)),
        Slot("model.quality", mp.quality(spec, model)),
        row_slot("row.workload", "Workload"),
        Slot("workload.pod_phase", pp.pod_phase(spec, scope), 8),
        Slot("workload.restarts", pp.restarts(spec, scope), 8),
        Slot("workload.replicas", pp.replicas(spec, scope), 8),
        Slot("workload.hpa", pp.hpa(spec, scope), 8),
        Slot("workload.cpu", pp.container_cpu(spec, scope), 8),
        Slot("workload.memory", pp.container_memory(spec, scope), 8),
    ]
    if model.slo is not None:
        slots += [
            row_slot("row.slo", f"Objectives ({model.slo.window_text} error budget)"),
            Slot("slo.budget_remaining", slop.budget_remaining(spec, model), 6),
            Slot("slo.burn_rate", slop.burn_rate(spec, model), 9),
            Slot("slo.budget_consumption", slop.budget_consumption(spec, model), 9),
        ]
    links = [dashboard_link("Fleet overview", f"/d/{dashboard_uid('fleet')}", "All models of the fleet"),
             dashboard_link("Platform", f"/d/{dashboard_uid('platform')}", "Pods, deployments and HPAs of every "
                            "model namespace")]
    runbook = model.runbook_url or spec.alerting.runbook_base_url
    if runbook:
        links.append(dashboard_link("Runbook", runbook, f"What to do when {model.name} alerts", "doc"))
    team = spec.team_of(model)
    board = assemble(
        spec,
        "model",
        model.dashboard_uid,
        f"Model / {model.name}",
        f"{model.task.capitalize()} model {model.name} in namespace {model.namespace}, served by {backend.title}; "
        f"owned by {team}.",
        ["modeldash", f"model:{model.name}", "layer:serving", "layer:model", f"team:{team}"],
        slots,
        links=links,
    )
    board["annotations"] = {"list": model_annotations(model, scope.workload)}
    return board


__all__ = ["model_dashboard", "workload_scope", "GRID_WIDTH"]
