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
        models.append(_task(model, None if i % 3 == 2 else {"a": 0.5, "b": 0.3, "c": 0.2}))
    return {"name": "bench-fleet", "labels": {"team": "ml-platform"}, "models": models}


def _task(model: dict, classes: dict | None) -> dict:
    """Istio status codes for KServe models; regression without classes, else classification."""
    if model["backend"] == "kserve":
        model["error_backend"] = "istio"
    model["task"] = "classification" if classes else "regression"
    if classes:
        model["classes"] = classes
    return model


def spread_fleet_data(n_models: int, namespaces: int = 40, features: int | None = None) -> dict:
    """A fleet as a new user's: models over ``namespaces`` namespaces and teams, 2-5 classes and
    5-12 features each (``features``: that many for every model), every backend. Deterministic
    (no randomness): model i's shape is a function of i, so two runs render the same output."""
    models = []
    for i in range(n_models):
        backend = BACKENDS[i % len(BACKENDS)]
        ns = f"ns-{(i * 7) % namespaces:02d}"
        model = {
            "name": f"m{i:04d}-{backend}",
            "namespace": ns,
            "backend": backend,
            "features": [f"feat_{j}" for j in range(features or 5 + (i * 5) % 8)],
            "ground_truth": i % 3 != 0,
            "owner_team": f"team-{(i * 7) % namespaces % 13:02d}",
        }
        k = 2 + i % 4
        shares = [round(1 / k, 4)] * (k - 1)
        classes = {**{f"c{j}": v for j, v in enumerate(shares)}, f"c{k - 1}": round(1 - sum(shares), 4)}
        models.append(_task(model, None if i % 4 == 3 else classes))
    return {"name": "spread-fleet", "labels": {"team": "ml-platform"}, "models": models}


GENERATORS = {"fleet": fleet_data, "spread": spread_fleet_data}
