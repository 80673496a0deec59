"""Generate a large synthetic fleet spec (shared by the benchmarks)."""
from __future__ import annotations

BACKENDS = ["knative-legacy", "knative", "kserve", "istio"]


def fleet_data(n_models: int) -> dict:
    models = []
    for i in range(n_models):
        backend = BACKENDS[i % len(BACKENDS)]
        model = {
            "name": f"model-{i:04d}",
            "namespace": f"team-{i % 25:02d}",
            "backend": backend,
            "features": [f"f{j}" for j in range(8)],
            "ground_truth": i % 2 == 0,
            "owner_team": f"team-{i % 25:02d}",
            "runbook_url": f"https://runbooks.example.com/ml/model-{i:04d}",
        }
        if backend == "kserve":
            model["error_backend"] = "istio"
        if i % 3 == 2:
            model["task"] = "regression"
        else:
            model["task"] = "classification"
            model["classes"] = {"a": 0.5, "b": 0.3, "c": 0.2}
        models.append(model)
    # The platform alert group of 1,000 models (one rule per namespace and alert) outgrows the
    # 262,144 bytes of client-side `kubectl apply`: a fleet this size applies server-side.
    return {"name": "bench-fleet", "labels": {"team": "ml-platform"}, "models": models,
            "kubernetes": {"server_side_apply": n_models > 300}}
