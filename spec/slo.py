"""Service-level objectives of a model: targets, the budget window and the burn-rate alert windows.

``slo: {window: 28d, availability: 0.999, latency: {threshold: 500ms, target: 0.99}}`` on a model
or in ``defaults`` (models inherit it key by key). The page and ticket alert windows and factors
default to the Google SRE Workbook's multi-window, multi-burn-rate set and may be overridden
(also to scale every window down in a test spec). ``check_fleet_slos`` validates what needs the
fleet: a latency threshold must be a bucket boundary of the model's histogram, availability needs
a status-code source.
"""
from __future__ import annotations

import bisect
import math

from pydantic import Field, field_validator, model_validator

from modeldash.datasources.slo import BUCKETS, default_buckets_seconds
from modeldash.spec.base import DurationField, FieldProblem, StrictModel, format_duration

DEFAULT_WINDOW = 28 * 86400


def _target(v: float) -> float:
    if v is None:
        return v
    if isinstance(v, bool) or not 0 < v < 1:
        raise ValueError("is a target share strictly between 0 and 1 (99.9 % is 0.999)")
    return v


class BurnWindow(StrictModel):
    """Alert when the burn rate exceeds ``factor`` over both ``long`` and ``short``."""

    factor: float
    long: DurationField
    short: DurationField

    @field_validator("factor")
    @classmethod
    def _positive(cls, v):
        if not math.isfinite(v) or v <= 0:
            raise ValueError("burn-rate factor must be a positive number")
        return v

    @model_validator(mode="after")
    def _ordered(self):
        if self.short <= 0 or self.long <= 0:
            raise ValueError("windows must be positive durations")
        if self.short >= self.long:
            raise ValueError(f"short window {format_duration(self.short)} must be shorter than the long window "
                             f"{format_duration(self.long)}")
        if self.short < 1:
            raise ValueError("windows must be at least 1s")
        return self


PAGE = (BurnWindow(factor=14.4, long=3600, short=300), BurnWindow(factor=6, long=6 * 3600, short=1800))
TICKET = (BurnWindow(factor=3, long=86400, short=7200), BurnWindow(factor=1, long=3 * 86400, short=6 * 3600))


class SloAlerts(StrictModel):
    """Page and ticket alternatives (any alternative fires the alert); SRE Workbook defaults."""

    page: list[BurnWindow] = Field(default_factory=lambda: list(PAGE), min_length=1, max_length=4)
    ticket: list[BurnWindow] = Field(default_factory=lambda: list(TICKET), min_length=1, max_length=4)

    @model_validator(mode="after")
    def _page_above_ticket(self):
        low_page = min(w.factor for w in self.page)
        high_ticket = max(w.factor for w in self.ticket)
        if low_page <= high_ticket:
            raise ValueError(f"every page factor must exceed every ticket factor (page {low_page:g} <= "
                             f"ticket {high_ticket:g}): a burn between them is what opens a ticket without paging")
        return self


class LatencyObjective(StrictModel):
    """Share ``target`` of requests faster than ``threshold`` (a histogram bucket boundary)."""

    threshold: DurationField
    target: float
    buckets: list[DurationField] | None = Field(default=None, min_length=1, max_length=200)

    _t = field_validator("target")(classmethod(lambda cls, v: _target(v)))

    @field_validator("threshold")
    @classmethod
    def _positive(cls, v):
        if v <= 0:
            raise ValueError("latency threshold must be a positive duration")
        return v


class SloSpec(StrictModel):
    window: DurationField = DEFAULT_WINDOW
    availability: float | None = None
    latency: LatencyObjective | None = None
    alerts: SloAlerts = SloAlerts()

    _t = field_validator("availability")(classmethod(lambda cls, v: _target(v)))

    @model_validator(mode="after")
    def _window(self):
        if self.window < 60:
            raise ValueError("window: the budget window must be at least 1m")
        longest = max(w.long for w in self.alerts.page + self.alerts.ticket)
        if longest > self.window:
            raise ValueError(f"window: alert window {format_duration(longest)} is longer than the budget window "
                             f"{format_duration(self.window)}")
        return self

    @property
    def window_text(self) -> str:
        return format_duration(self.window)

    @property
    def slow_burn(self) -> float:
        """A burn rate that opens a ticket and never pages: the geometric mean of the highest ticket
        factor and the lowest page factor (the simulator's slow-burn scenario and the promtool cases)."""
        return math.sqrt(max(a.factor for a in self.alerts.ticket) * min(a.factor for a in self.alerts.page))

    def alert_windows(self) -> list[float]:
        """Every window an alert reads, shortest first (the SLI ratios recorded per model)."""
        return sorted({w for a in self.alerts.page + self.alerts.ticket for w in (a.long, a.short)})


def _nearest(bounds: tuple[float, ...], value: float) -> str:
    i = bisect.bisect_left(bounds, value)
    near = [bounds[j] for j in (i - 1, i) if 0 <= j < len(bounds)]
    return " and ".join(format_duration(b) for b in near)


def check_fleet_slos(fleet) -> None:
    """Fleet-level checks of every model's objectives; raises ``FieldProblem`` at the offending field."""
    for i, m in enumerate(fleet.models):
        slo = m.slo
        if slo is None:
            continue
        if slo.availability is not None and fleet.error_backend_for(m) is None:
            raise FieldProblem(("models", i, "slo", "availability"),
                               f"backend {fleet.backend_for(m).name!r} reports no status codes: set error_backend "
                               "(e.g. istio) or drop the availability objective")
        lat = slo.latency
        if lat is None:
            continue
        backend = fleet.backend_for(m)
        if lat.buckets is not None:
            bounds = tuple(sorted(lat.buckets))
            where = "the declared slo.latency.buckets"
        else:
            bounds = default_buckets_seconds(backend) if backend.name in BUCKETS else ()
            where = f"the {backend.histogram_metric} histogram of {backend.title} (declare slo.latency.buckets " \
                    "if your deployment changed them)"
        if not any(math.isclose(b, lat.threshold, rel_tol=1e-9, abs_tol=1e-12) for b in bounds):
            raise FieldProblem(("models", i, "slo", "latency", "threshold"),
                               f"{format_duration(lat.threshold)} is not a bucket boundary of {where}; nearest "
                               f"boundaries: {_nearest(bounds, lat.threshold) or 'none'}")
