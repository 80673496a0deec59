"""Scenarios: healthy, or exactly one fault aimed at one model (or its node).

Exporters ask ``ScenarioState.hits(name, model)`` whether a fault applies to the series they
are about to emit; nothing else in the simulator knows which scenario is active.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("healthy", "every signal inside its thresholds"),
        Scenario("cpu-saturation", "the target model's node runs at ~98 % CPU"),
        Scenario("crash-loop", "the target model's first pod restarts continuously (CrashLoopBackOff)"),
        Scenario("replica-mismatch", "the target model's Deployment has one replica fewer available than desired"),
        Scenario("hpa-maxed", "the target model's HPA runs at its maximum replicas"),
        Scenario("latency-spike", "the target model's p95/p99 latency rises above the critical levels"),
        Scenario("error-burst", "the target model answers ~20 % of requests with 5xx"),
        Scenario("slow-burn", "the target model spends its availability error budget fast enough for a ticket, "
                              "too slowly for a page"),
        Scenario("traffic-stop", "the target model receives no requests"),
        Scenario("class-shift", "the target model predicts only its rarest class"),
        Scenario("drift", "one feature of the target model drifts above its threshold"),
    )
}


class ScenarioState:
    """The active scenario and its target model; thread-safe, switched at run time."""

    def __init__(self, default_target: str):
        self._lock = threading.Lock()
        self._name = "healthy"
        self._target = default_target
        self._default_target = default_target

    def set(self, name: str, model: str | None = None) -> None:
        if name not in SCENARIOS:
            raise KeyError(f"unknown scenario {name!r}; choose one of {', '.join(SCENARIOS)}")
        with self._lock:
            self._name = name
            self._target = model or self._default_target

    @property
    def name(self) -> str:
        return self._name

    @property
    def target(self) -> str:
        return self._target

    def hits(self, scenario: str, model: str) -> bool:
        """Whether fault ``scenario`` is active and aimed at ``model``."""
        with self._lock:
            return self._name == scenario and self._target == model
