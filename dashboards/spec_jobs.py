"""Spec section ``jobs``: the batch monitoring jobs (drift, quality) and where they push.

The schedule drives the CronJob; ``period`` is how often that schedule fires, which the
``ModelMonitoringJobStale`` alert uses (stale after two periods without a success).
"""
from __future__ import annotations

from pydantic import field_validator

from modeldash.dashboards.spec_base import DurationField, StrictModel


class JobSpec(StrictModel):
    enabled: bool = True
    schedule: str = "0 * * * *"
    period: DurationField = 3600.0

    @field_validator("schedule")
    @classmethod
    def _cron(cls, v):
        if len(v.split()) != 5:
            raise ValueError(f"{v!r} is not a five-field cron schedule (e.g. '0 * * * *')")
        return v

    @field_validator("period")
    @classmethod
    def _period(cls, v):
        if v <= 0:
            raise ValueError("must be a positive duration")
        return v


class JobsSpec(StrictModel):
    drift: JobSpec = JobSpec()
    quality: JobSpec = JobSpec(schedule="0 */6 * * *", period=21600.0)
    image: str = "ghcr.io/example/modeldash-jobs:0.1.0"
    pushgateway_url: str = "http://prometheus-pushgateway.monitoring.svc:9091"
