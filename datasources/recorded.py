"""The ``model:*`` series the recording rules write: every backend normalised to one vocabulary.

Each recorded series is in seconds or a ratio and carries ``model`` and ``namespace`` labels,
so the fleet overview and the per-model serving alerts read
``model:request_latency_seconds:p95_5m{model="x", namespace="ns"}`` without knowing the backend.
``expressions`` is what each one stands for (the recording rules' ``expr``); names follow the
``level:metric:operations`` convention.

Only what something reads is recorded: p95 (fleet overview, latency alerts), the request rate
(fleet overview, traffic alert) and the 5xx ratio (fleet overview, error alert). The model
dashboard's p50/p95/p99 panel computes its quantiles at query time, at the dashboard's own
resolution, so recording p50/p99 for every model at every evaluation would cost for nothing.
"""
from __future__ import annotations

from modeldash.datasources.backends import ServingBackend, Target

WINDOW = "5m"
REQUEST_RATE = "model:requests:rate5m"
LATENCY_P95 = "model:request_latency_seconds:p95_5m"
ERROR_RATIO = "model:request_errors_5xx:ratio_rate5m"
NAMES = (REQUEST_RATE, LATENCY_P95, ERROR_RATIO)


def labels(t: Target) -> dict[str, str]:
    """The labels every recorded series of one model carries."""
    return {"model": t.model, "namespace": t.namespace}


def selector(name: str, t: Target) -> str:
    """One model's recorded series."""
    return f'{name}{{model="{t.model}", namespace="{t.namespace}"}}'


def expressions(backend: ServingBackend, errors: ServingBackend | None, t: Target) -> dict[str, str]:
    """``{recorded name: PromQL}`` for one model; no error ratio without a status-code source."""
    out = {
        REQUEST_RATE: backend.request_rate(t, WINDOW),
        LATENCY_P95: backend.latency_quantile_seconds(0.95, t, WINDOW),
    }
    if errors is not None:
        out[ERROR_RATIO] = errors.error_ratio(t, WINDOW, "5xx")
    return out
