"""Commands that talk to a live Prometheus: ``modeldash demo`` and the live part of ``lint``.

``demo`` renders a fleet, starts the workload simulator and the real Prometheus with the
fleet's recording and alert rules, prints what to open, and stops both on Ctrl-C/SIGTERM.
"""
from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path

import click
import yaml

from modeldash.scripts.cli_common import EXIT_BAD_INPUT, EXIT_FINDINGS, SPEC_ARG, BadInput, guarded, read_spec
from modeldash.scripts.prometheus_client_http import PrometheusError, query
from modeldash.spec.safe_values import url_problem


def dashboards_from_files(files: dict[str, str]) -> list[dict]:
    """The dashboard JSON models among rendered files (``dashboards/<folder>/<uid>.json``)."""
    return [json.loads(text) for rel, text in sorted(files.items()) if rel.startswith("dashboards/") and rel.endswith(".json")]


def check_reachable(prometheus_url: str) -> None:
    """Fail fast (exit 2, one line) before any slow work when the URL answers no PromQL."""
    problem = url_problem(prometheus_url, in_templates=False)
    if problem:
        raise BadInput(f"--prometheus: {problem}")
    try:
        query(prometheus_url, "vector(1)", timeout=10)
    except PrometheusError as exc:
        raise BadInput(f"--prometheus {prometheus_url}: {exc}") from None


def run_live_lint(dashboards: list[dict], prometheus_url: str, rate_interval: str) -> int:
    """Print every panel without data; return the exit code (0 clean, 1 findings)."""
    from modeldash.scripts.live_lint import count_queries, lint_live

    check_reachable(prometheus_url)
    problems = lint_live(dashboards, prometheus_url, macros={"__rate_interval": rate_interval})
    for p in problems:
        click.echo(f"live: {p}")
    total = count_queries(dashboards)
    panels = len({(p.dashboard, p.panel) for p in problems})
    if problems:
        click.echo(f"live lint: {len(problems)} of {total} queries without data ({panels} panels)", err=True)
        return EXIT_FINDINGS
    click.echo(f"live lint: all {total} queries of {len(dashboards)} dashboards return data from {prometheus_url}")
    return 0


def grafana_provisioning(spec, prometheus_url: str, dashboards_dir: Path) -> dict[str, str]:
    """Grafana provisioning files for the demo: the spec's datasource uid at the demo Prometheus."""
    ds = {"apiVersion": 1, "datasources": [{
        "name": spec.datasource.name, "uid": spec.datasource.uid, "type": "prometheus", "access": "proxy",
        "url": prometheus_url, "isDefault": True, "jsonData": {"timeInterval": "1s"},
    }]}
    boards = {"apiVersion": 1, "providers": [{
        "name": "modeldash-demo", "type": "file", "disableDeletion": True,
        "options": {"path": str(dashboards_dir.resolve()), "foldersFromFilesStructure": True},
    }]}
    return {
        "grafana-demo/provisioning/datasources/modeldash-demo.yaml": yaml.safe_dump(ds, sort_keys=True),
        "grafana-demo/provisioning/dashboards/modeldash-demo.yaml": yaml.safe_dump(boards, sort_keys=True),
    }


def demo_rules(spec) -> dict:
    from modeldash.alerts.build import prometheus_rules

    return prometheus_rules(spec)


SIMULATOR_LISTEN = click.option(
    "--simulator-listen", default="127.0.0.1:0", show_default=True, metavar="HOST:PORT",
    help="Where the simulator serves its exporters (port 0: a free port).")
PROMETHEUS_LISTEN = click.option(
    "--prometheus-listen", default="127.0.0.1:0", show_default=True, metavar="HOST:PORT",
    help="Where Prometheus listens (port 0: a free port).")


@click.command()
@SPEC_ARG
@click.option("-o", "--out", "out_dir", default="out-demo", show_default=True, type=click.Path(file_okay=False),
              help="Where the rendered fleet and the Grafana provisioning files go (replaced).")
@click.option("--scenario", default="healthy", show_default=True, help="Scenario to start in (switch later over HTTP).")
@click.option("--model", default=None, help="Model the scenario's fault targets (default: the first model).")
@SIMULATOR_LISTEN
@PROMETHEUS_LISTEN
@guarded
def demo(spec, out_dir, scenario, model, simulator_listen, prometheus_listen):
    """Render SPEC, start the workload simulator and a real Prometheus, and keep them running.

    Prometheus (/usr/bin/prometheus) scrapes the simulator every second and evaluates the
    fleet's recording and alert rules. Point a Grafana at it with the printed provisioning
    folder. Switch scenarios while it runs (cpu-saturation, crash-loop, replica-mismatch,
    hpa-maxed, latency-spike, error-burst, traffic-stop, class-shift, drift, healthy):

    \b
      curl -X POST 'http://<simulator>/scenario?name=latency-spike&model=fraud-detector'

    Ctrl-C (or SIGTERM) stops both cleanly.
    """
    from modeldash.scripts.live_stack import LiveStack, parse_listen
    from modeldash.scripts.render import build_files, check_output_dir, write_tree
    from modeldash.simulator import SCENARIOS

    fleet, path = read_spec(spec)
    if scenario not in SCENARIOS:
        raise BadInput(f"--scenario: unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
    if model is not None and model not in {m.name for m in fleet.models}:
        raise BadInput(f"--model: {path}: no model named {model!r}")
    listen = parse_listen("--simulator-listen", simulator_listen), parse_listen("--prometheus-listen", prometheus_listen)
    check_output_dir(Path(out_dir))
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    stack = LiveStack(fleet, demo_rules(fleet), *listen, scenario=scenario, model=model)
    try:
        stack.start()
        sim, prom = stack.sim, stack.prom
        out = Path(out_dir)
        files, ctx = build_files(fleet, out)
        files.update(grafana_provisioning(fleet, prom.url, out / "dashboards"))
        write_tree(files, out)
        provisioning = (out / "grafana-demo" / "provisioning").resolve()
        lines = [
            f"modeldash demo: {path} ({len(fleet.models)} models), scenario {sim.state.name} on {sim.state.target}",
            f"  rendered     {out}/ ({len(files)} files)",
            f"  simulator    http://{sim.address}/  (lists its exporters, e.g. http://{sim.address}/metrics/models)",
            f"  prometheus   {prom.url}  pid {prom.process.pid}",
            f"               alerts {prom.url}/api/v1/alerts  rules {prom.url}/api/v1/rules  targets {prom.url}/api/v1/targets",
            f"  scenarios    curl -X POST 'http://{sim.address}/scenario?name=latency-spike&model={sim.state.target}'",
            f"  grafana      add a Prometheus datasource uid {fleet.datasource.uid!r} with URL {prom.url},",
            f"               or start Grafana with GF_PATHS_PROVISIONING={provisioning}",
            "  Ctrl-C stops the simulator and Prometheus.",
        ]
        click.echo("\n".join(lines))
        sys.stdout.flush()
        while not stop.wait(0.5):
            if prom.process is None or prom.process.poll() is not None:
                click.echo(f"error: Prometheus exited: {prom.log_tail()}", err=True)
                sys.exit(EXIT_BAD_INPUT)
        click.echo("stopping demo: Prometheus and simulator")
    finally:
        stack.stop()
        for s, h in previous.items():
            signal.signal(s, h)
