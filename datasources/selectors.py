"""Building label matchers: the small helper every exporter module uses to join its fixed
matchers (job, filters) with a caller's scope (a dashboard variable or one alert's object)."""
from __future__ import annotations


def selector(metric: str, *parts: str) -> str:
    """``metric{a, b, ...}`` from matcher strings; empty parts (an unscoped caller) are skipped."""
    return f"{metric}{{{', '.join(p for p in parts if p)}}}"


def per_model(metric: str, how: str = "max", models: str = "$model") -> str:
    """One series per model of a series that carries a ``model`` label (the fleet overview)."""
    return f'{how} by (model) ({metric}{{model=~"{models}"}})'
