"""Benchmark: query time of the fleet overview at N simulated models (real Prometheus).

Run by hand (never in the test suite), e.g.:

    nice -n 10 python benchmarks/fleet_dashboard.py --models 1000 --minutes 3 --runs 5

A simulator process serves N models (the example fleet's models repeated over their backends);
the real Prometheus scrapes it and evaluates the generated recording group (the recorded serving
series and the constant ``model:info`` / ``model:threshold`` series) that the fleet dashboard
reads; ``--rules all`` adds the ~18,000 alert rules of 1,000 models (more than a 2-core machine
shared with other work evaluates in one interval, and the dashboard does not read them except
``ALERTS`` for the firing-alert column, which then falls back to zeros). After ``--minutes`` every query of
the fleet dashboard runs ``--runs`` times as Grafana sends it (filters at All, instant queries);
the script prints the median wall time and Prometheus's own evaluation time per panel, the
number of rows/series returned, and the dashboard total (panels queried one after another,
the slowest case; Grafana runs them in parallel).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from recording_rules import (  # sibling benchmark
    _head_series as head_series, fleet_of, simulated_fleet_args, simulator_process, timed)

from modeldash.alerts.build import prometheus_rules
from modeldash.alerts.sharding import RECORDING_GROUP
from modeldash.dashboards.build import build_dashboards
from modeldash.scripts.live_lint import DEFAULT_MACROS, iter_panels, substitute_macros, substitute_variables
from modeldash.scripts.prometheus_client_http import query
from modeldash.scripts.prometheus_harness import PrometheusServer
from modeldash.simulator import Simulator

ALL = {v: ".*" for v in ("team", "namespace", "backend", "cluster")}


def main(argv=None) -> int:
    ap = simulated_fleet_args(__doc__, models=1000, minutes=3.0, runs=5, interval="30s")
    ap.add_argument("--rules", choices=("recording", "all"), default="recording")
    args = ap.parse_args(argv)

    spec, data = fleet_of(args.models)
    rules = prometheus_rules(spec)
    if args.rules == "recording":
        rules["groups"] = [g for g in rules["groups"] if g["name"].startswith(RECORDING_GROUP)]  # sharded per namespace
    for group in rules["groups"]:
        group["interval"] = args.interval
    n_rules = sum(len(g["rules"]) for g in rules["groups"])
    fleet = next(d.json for d in build_dashboards(spec) if d.kind == "fleet")
    panels = [p for p in iter_panels(fleet["panels"]) if p.get("targets")]
    with tempfile.TemporaryDirectory() as tmp, simulator_process(data, Path(tmp)) as address, \
            PrometheusServer(Simulator(spec).scrape_configs(address), rules, interval=args.interval) as prom:
        print(f"{args.models} models, {n_rules} rules, simulator {address}, Prometheus {prom.url}; "
              f"collecting {args.minutes:g} min...", flush=True)
        time.sleep(args.minutes * 60)
        _wait_recorded(prom.url)
        print(f"head series: {head_series(prom.url):.0f}; {args.runs} runs, median\n")
        time_panels(prom.url, panels, args.runs)
    return 0


def time_panels(url: str, panels: list[dict], runs: int, at: float | None = None) -> None:
    """Run every panel's queries as Grafana sends them (filters at All), ``runs`` times; print medians."""
    print(f"{'panel':36} {'queries':>7} {'rows':>5} {'wall ms':>8} {'eval ms':>8}")
    total_wall = total_eval = 0.0
    for panel in panels:
        exprs = [substitute_variables(substitute_macros(t["expr"], DEFAULT_MACROS), ALL) for t in panel["targets"]]
        results = []
        for _ in range(runs):
            when = at or time.time()
            res = [timed(url, "/api/v1/query", {"query": e, "time": when}) for e in exprs]
            results.append((sum(r[0] for r in res), sum(r[1] for r in res), max(r[2] for r in res)))
        wall = statistics.median(r[0] for r in results)
        ev = statistics.median(r[1] for r in results)
        total_wall += wall
        total_eval += ev
        print(f"{panel['title'][:36]:36} {len(exprs):7d} {results[0][2]:5d} {wall * 1000:8.1f} {ev * 1000:8.1f}")
    print(f"\nfleet dashboard total ({sum(len(p['targets']) for p in panels)} queries, sequential): "
          f"wall {total_wall * 1000:.1f} ms, Prometheus eval {total_eval * 1000:.1f} ms")


def _wait_recorded(url: str, timeout: float = 300) -> None:
    """Until the recording group has been evaluated (its series exist), so queries see real data."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if query(url, "count(model:info)")["result"] and query(url, "count(model:requests:rate5m)")["result"]:
            return
        up = {r["metric"]["job"]: r["value"][1] for r in query(url, "min by (job) (up)")["result"]}
        took = {r["metric"]["job"]: round(float(r["value"][1]), 1)
                for r in query(url, "max by (job) (scrape_duration_seconds)")["result"]}
        print(f"waiting for recorded series; up {up}, scrape seconds {took}", flush=True)
        time.sleep(15)
    raise RuntimeError("the recording group produced no series in time")


if __name__ == "__main__":
    sys.exit(main())
