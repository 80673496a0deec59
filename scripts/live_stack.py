"""The workload simulator plus a real Prometheus with the fleet's rules: what ``demo`` and ``preview`` run.

``LiveStack`` starts both on the given listen addresses (port 0: a free one), waits until every
simulator target is scraped, and stops both. ``parse_listen`` checks ``HOST:PORT`` options.
"""
from __future__ import annotations

import ipaddress
import time

from modeldash.scripts.errors import BadInput
from modeldash.scripts.prometheus_client_http import PrometheusError, query
from modeldash.scripts.prometheus_harness import HarnessError, PrometheusServer


def parse_listen(option: str, value: str) -> tuple[str, int]:
    """``127.0.0.1:9090``, ``:9090`` or ``9090`` -> (host, port); loopback or any IP address only."""
    host, _, port = value.rpartition(":") if ":" in value else ("", "", value)
    host = host.strip("[]") or "127.0.0.1"
    try:
        ipaddress.ip_address(host)
        number = int(port)
    except ValueError:
        raise BadInput(f"{option}: {value!r} is not HOST:PORT with an IP address and a port number") from None
    if not 0 <= number <= 65535:
        raise BadInput(f"{option}: port {number} is out of range 0-65535")
    return host, number


def simulator_interval(fleet) -> int:
    """Scrape interval (seconds) for a simulator stack: 1 s, plus 1 s per 25 models; serving a
    100-model fleet's exporters takes longer than one second on a small machine."""
    return 1 + len(fleet.models) // 25


def fast_evaluation(rules: dict, interval: str = "5s") -> dict:
    """The same rules, every group evaluated every ``interval``: a fresh simulator Prometheus
    otherwise shows recording-rule panels empty for up to a minute (groups run every 1m)."""
    return {**rules, "groups": [{**g, "interval": interval} for g in rules.get("groups", [])]}


class LiveStack:
    """Simulator and Prometheus for one fleet; ``start()`` / ``stop()`` or a context manager."""

    def __init__(self, fleet, rules: dict | None, simulator_listen: tuple[str, int] = ("127.0.0.1", 0),
                 prometheus_listen: tuple[str, int] = ("127.0.0.1", 0), scenario: str = "healthy",
                 model: str | None = None, interval: str = "1s"):
        from modeldash.simulator import Simulator

        self.sim = Simulator(fleet, host=simulator_listen[0], port=simulator_listen[1])
        self.sim.set_scenario(scenario, model)
        self.rules = rules
        self.prometheus_listen = prometheus_listen
        self.interval = interval
        self.prom: PrometheusServer | None = None
        self.started_at: float | None = None

    @property
    def url(self) -> str:
        return self.prom.url

    def start(self) -> "LiveStack":
        try:
            self.sim.start()
        except OSError as exc:
            raise BadInput(f"--simulator-listen: cannot listen on {self.sim._host}:{self.sim._port}: {exc.strerror}") from None
        host, port = self.prometheus_listen
        self.prom = PrometheusServer(self.sim.scrape_configs(), self.rules, self.interval, host=host, port=port)
        try:
            self.prom.start()
        except HarnessError as exc:
            self.stop()
            raise BadInput(str(exc)) from None
        self.started_at = time.time()
        return self

    def wait_scraped(self, timeout: float = 30.0) -> None:
        """Until every simulator endpoint has been scraped successfully once."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                up = sum(float(r["value"][1]) == 1 for r in query(self.url, "up")["result"])
            except PrometheusError:
                up = 0
            if up >= len(self.sim.endpoints):
                return
            time.sleep(0.5)
        raise BadInput(f"Prometheus at {self.url} did not scrape all {len(self.sim.endpoints)} simulator targets in {timeout:.0f}s")

    def stop(self) -> None:
        if self.prom is not None:
            self.prom.stop()
            self.prom = None
        self.sim.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
