"""The simulator's HTTP server: one registry, one loopback port, one path per exporter.

Each exporter is a separate scrape job so Prometheus gives it the ``job`` label the real
one has (``node-exporter``, ``kube-state-metrics``, ``kubelet``), one target per node for
node-exporter and cAdvisor (so ``up{job="node-exporter"}`` and ``instance`` are per node),
and ``honor_labels: true`` only where the real setup uses it (the model's metrics, which a
Pushgateway-style job label ``job="drift"`` must survive). ``scrape_configs()`` writes
that layout for Prometheus. ``/scenario`` switches the scenario at run time.
"""
from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import CollectorRegistry

from modeldash.spec.fleet import FleetSpec
from modeldash.simulator.accumulator import Accumulator
from modeldash.simulator.cadvisor import CAdvisor
from modeldash.simulator.kube_state import KubeStateMetrics
from modeldash.simulator.model_metrics import ModelMetrics
from modeldash.simulator.node_exporter import NodeExporter
from modeldash.simulator.scenarios import ScenarioState
from modeldash.simulator.serving import Serving
from modeldash.simulator.signals import model_signals
from modeldash.simulator.topology import build_topology


class _One:
    """A registry view over one collector, for one endpoint."""

    def __init__(self, collector):
        self._collector = collector

    def collect(self):
        return self._collector.collect()


class Simulator:
    """All exporters of a fleet, served from ``127.0.0.1:<port>``; start/stop or use as a context manager."""

    def __init__(self, spec: FleetSpec, host: str = "127.0.0.1", port: int = 0, cluster: str | None = None):
        self.spec = spec
        self.cluster = cluster  # this simulator plays one cluster of a multi-cluster fleet
        self.topology = build_topology(spec)
        self.state = ScenarioState(default_target=spec.models[0].name)
        self._host, self._port = host, port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        acc = Accumulator()
        sat_nodes = lambda node: any(  # noqa: E731
            self.state.hits("cpu-saturation", m.model.name) and m.pods[0].node == node for m in self.topology.models
        )
        backends = {}
        for m in spec.models:
            chosen = [spec.backend_for(m)]
            err = spec.error_backend_for(m)
            if err is not None and err is not chosen[0]:
                chosen.append(err)
            backends[m.name] = tuple(chosen)
        # path -> (scrape job, target labels, collector)
        self.endpoints: dict[str, tuple[str, dict, object]] = {}
        for node in self.topology.nodes:
            self.endpoints[f"/metrics/node-exporter/{node}"] = (
                "node-exporter", {"instance": f"{node}:9100"}, NodeExporter(node, lambda n=node: sat_nodes(n), acc))
            self.endpoints[f"/metrics/cadvisor/{node}"] = (
                "kubelet", {"instance": f"{node}:10250", "node": node, "metrics_path": "/metrics/cadvisor"},
                CAdvisor(node, self.topology, acc))
        self.endpoints["/metrics/kube-state-metrics"] = (
            "kube-state-metrics", {"instance": "kube-state-metrics:8080"}, KubeStateMetrics(self.topology, self.signals, acc))
        self.endpoints["/metrics/serving"] = ("serving", {}, Serving(self.topology, backends, self.signals, acc))
        self.endpoints["/metrics/models"] = ("model-metrics", {}, ModelMetrics(self.topology, self.signals, acc))
        self.registry = CollectorRegistry()
        for _, _, collector in self.endpoints.values():
            self.registry.register(collector)

    # -- signals --------------------------------------------------------------------
    def signals(self) -> dict:
        return {m.model.name: model_signals(m, i, self.state) for i, m in enumerate(self.topology.models)}

    def set_scenario(self, name: str, model: str | None = None) -> None:
        if model is not None:
            self.topology.by_name(model)
        self.state.set(name, model)

    # -- serving --------------------------------------------------------------------
    @property
    def address(self) -> str:
        if self._server is None:
            raise RuntimeError("simulator not started")
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def render(self, path: str) -> bytes | None:
        entry = self.endpoints.get(path)
        return None if entry is None else generate_latest(_One(entry[2]))

    def start(self) -> "Simulator":
        sim = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet: Prometheus scrapes every second
                pass

            def _reply(self, code: int, body: bytes, ctype: str) -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the scraper gave up (scrape timeout); it will come back

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                if url.path == "/scenario":
                    body = json.dumps({"scenario": sim.state.name, "target": sim.state.target}).encode()
                    return self._reply(200, body, "application/json")
                if url.path in ("/", "/metrics"):  # an index, so the address printed by demo answers
                    body = "".join(f"{path}\n" for path in sorted(sim.endpoints)).encode()
                    return self._reply(200, body, "text/plain; charset=utf-8")
                body = sim.render(url.path)
                if body is None:
                    return self._reply(404, b"not found\n", "text/plain")
                self._reply(200, body, CONTENT_TYPE_LATEST)

            def do_POST(self):
                url = urllib.parse.urlsplit(self.path)
                q = dict(urllib.parse.parse_qsl(url.query))
                if url.path != "/scenario" or "name" not in q:
                    return self._reply(404, b"POST /scenario?name=<scenario>[&model=<model>]\n", "text/plain")
                try:
                    sim.set_scenario(q["name"], q.get("model"))
                except KeyError as exc:
                    return self._reply(400, f"{exc.args[0]}\n".encode(), "text/plain")
                self._reply(200, json.dumps({"scenario": sim.state.name, "target": sim.state.target}).encode(),
                            "application/json")

        self._server = ThreadingHTTPServer((self._host, self._port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="modeldash-simulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- Prometheus configuration ---------------------------------------------------------
    def scrape_configs(self, address: str | None = None) -> list[dict]:
        """Prometheus ``scrape_configs`` for every endpoint, grouped into the real jobs.

        ``address``: where this simulator's endpoints are served when it runs in another process.
        Simulators of several clusters merge with ``merge_scrape_configs``.
        """
        address = address or self.address
        jobs: dict[str, dict] = {}
        # one cluster of several: every target carries the cluster label, as kube-prometheus-stack's
        # external label (or a federating Prometheus's target label) gives it
        cluster = {self.spec.prometheus.cluster_label: self.cluster} if self.cluster else {}
        for path, (job, labels, _) in sorted(self.endpoints.items()):
            labels = {**labels, **cluster}
            cfg = jobs.setdefault(job, {"job_name": job, "honor_labels": job == "model-metrics", "static_configs": []})
            cfg["static_configs"].append({"targets": [address], "labels": {"__metrics_path__": path, **labels}})
        return [jobs[k] for k in sorted(jobs)]


def merge_scrape_configs(*configs: list[dict]) -> list[dict]:
    """Scrape jobs of several simulators (clusters) as one Prometheus config: one job per name."""
    jobs: dict[str, dict] = {}
    for config in configs:
        for job in config:
            jobs.setdefault(job["job_name"], {**job, "static_configs": []})["static_configs"] += job["static_configs"]
    return [jobs[k] for k in sorted(jobs)]
