"""Benchmark: the fleet overview's queries with and without the generated recording rules.

Run by hand (never in the test suite):

    python benchmarks/recording_rules.py --models 200 --minutes 5 --runs 7

A simulator serves a fleet of N models (the example fleet's three models, repeated over their
backends); the real Prometheus scrapes it and evaluates the fleet's recording rules. After
``--minutes`` of data, every panel of the fleet overview is queried ``--runs`` times two ways,
on the same Prometheus and the same data:

- recorded: the panel's generated query over the recorded series (``model:requests:rate5m`` ...),
  with every model selected;
- raw: what the recorded series stand for, computed at query time: one query per model with the
  recording rule's expression (what the fleet overview ran before it used recorded series).

It prints the median wall time of ``/api/v1/query_range`` (the panel over the collected range)
and of an instant query, and Prometheus's own evaluation time (``stats=all``), per panel.
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import yaml

from modeldash.alerts.build import RECORDED_NAMES, prometheus_rules, recording_rules
from modeldash.dashboards.build import build_dashboards
from modeldash.spec.fleet import bundled_example, load_spec_data
from modeldash.scripts.live_lint import iter_panels, substitute_macros, substitute_variables
from modeldash.scripts.prometheus_harness import PrometheusServer
from modeldash.simulator import Simulator

WINDOW = "5m"  # the recording rules' window


def raw_equivalent(expr: str, rules: list) -> list[str]:
    """The per-model queries a panel over recorded series stands for (what the fleet overview
    ran before it read recorded series): one ``label_replace(<rule expr>, "model", ...)`` per model."""
    used = [name for name in RECORDED_NAMES if name in expr]
    if not used:
        return [expr]
    return [f'label_replace({r.expr}, "model", "{r.labels["model"]}", "", "")' for r in rules if r.record == used[0]]


@contextlib.contextmanager
def simulator_process(data: dict, tmp: Path):
    """The simulator in its own process, so its work does not skew the client's timings."""
    path = tmp / "fleet.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=True))
    proc = subprocess.Popen([sys.executable, "-m", "modeldash.simulator", str(path)], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        if not line.startswith("listening "):
            raise RuntimeError(f"simulator did not start: {line!r}")
        yield line.split()[1]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def fleet_of(n: int):
    """The example fleet's models repeated to ``n`` models (names suffixed, backends kept)."""
    data = yaml.safe_load(bundled_example().read_text())
    templates = data["models"]
    models = []
    for i in range(n):
        m = copy.deepcopy(templates[i % len(templates)])
        m["name"] = f"{m['name']}-{i:03d}"
        m.pop("inference_service", None)
        models.append(m)
    data["models"] = models
    data.get("jobs", {}).pop("models", None)  # per-model job sources name the example's models
    return load_spec_data(data, f"<{n}-model fleet>"), data


def timed(url: str, path: str, params: dict) -> tuple[float, float, int]:
    """Wall seconds, Prometheus's evalTotalTime seconds and the number of series returned."""
    body = urllib.parse.urlencode({**params, "stats": "all"}).encode()
    t0 = time.perf_counter()
    with urllib.request.urlopen(urllib.request.Request(url + path, data=body), timeout=300) as resp:
        data = json.loads(resp.read())
    wall = time.perf_counter() - t0
    if data.get("status") != "success":
        raise RuntimeError(f"{params['query'][:120]}: {data.get('error')}")
    stats = data["data"].get("stats", {}).get("timings", {})
    return wall, float(stats.get("evalTotalTime", "nan")), len(data["data"]["result"])


def run_panel(url: str, exprs: list[str], start: float, end: float, step: int) -> dict:
    out = {"range_wall": 0.0, "range_eval": 0.0, "instant_wall": 0.0, "series": 0}
    for expr in exprs:
        w, e, n = timed(url, "/api/v1/query_range", {"query": expr, "start": start, "end": end, "step": step})
        out["range_wall"] += w
        out["range_eval"] += e
        out["series"] += n
        w, _, _ = timed(url, "/api/v1/query", {"query": expr, "time": end})
        out["instant_wall"] += w
    return out


def simulated_fleet_args(doc: str, models: int, minutes: float, runs: int, interval: str) -> argparse.ArgumentParser:
    """The options every simulated-fleet query benchmark takes (with its own defaults)."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--models", type=int, default=models)
    ap.add_argument("--minutes", type=float, default=minutes, help="data to collect before querying")
    ap.add_argument("--runs", type=int, default=runs)
    ap.add_argument("--interval", default=interval, help="scrape and rule evaluation interval")
    return ap


def main(argv=None) -> int:
    ap = simulated_fleet_args(__doc__, models=200, minutes=5.0, runs=7, interval="5s")
    ap.add_argument("--step", type=int, default=15, help="query_range step in seconds")
    args = ap.parse_args(argv)

    spec, data = fleet_of(args.models)
    rules = prometheus_rules(spec)
    for group in rules["groups"]:
        group["interval"] = args.interval
    recs = recording_rules(spec)
    fleet = next(d.json for d in build_dashboards(spec) if d.kind == "fleet")
    panels = [p for p in iter_panels(fleet["panels"]) if p.get("targets")]
    with tempfile.TemporaryDirectory() as tmp, simulator_process(data, Path(tmp)) as address, \
            PrometheusServer(Simulator(spec).scrape_configs(address), rules, interval=args.interval) as prom:
        print(f"{args.models} models, simulator {address} (own process), Prometheus {prom.url}; "
              f"collecting {args.minutes:g} min of data...", flush=True)
        started = time.time()
        time.sleep(args.minutes * 60)
        end = time.time()
        start = started + 30  # skip the first scrapes
        series = _head_series(prom.url)
        print(f"head series: {series:.0f}; range {end - start:.0f}s step {args.step}s; {args.runs} runs, median\n")
        rows = []
        for panel in panels:
            title = panel["title"]
            # as Grafana sends them with every model selected ($model = All = .*)
            generated = [substitute_variables(substitute_macros(t["expr"], {"__rate_interval": WINDOW}), {"model": ".*"})
                         for t in panel["targets"]]
            raw = [q for expr in generated for q in raw_equivalent(expr, recs)]
            recorded = generated
            for label, exprs in (("raw", raw), ("recorded", recorded)):
                runs = [run_panel(prom.url, exprs, start, end, args.step) for _ in range(args.runs)]
                med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                rows.append((title, label, len(exprs), med))
        print(f"{'panel':28} {'variant':9} {'queries':>7} {'series':>6} {'range wall ms':>13} {'range eval ms':>13} {'instant ms':>10}")
        for title, label, n, med in rows:
            print(f"{title[:28]:28} {label:9} {n:7d} {med['series']:6.0f} {med['range_wall'] * 1000:13.1f} "
                  f"{med['range_eval'] * 1000:13.1f} {med['instant_wall'] * 1000:10.1f}")
        for label in ("raw", "recorded"):
            total = sum(med["range_wall"] for _, lb, _, med in rows if lb == label)
            inst = sum(med["instant_wall"] for _, lb, _, med in rows if lb == label)
            print(f"fleet overview total, {label:8}: range {total * 1000:.1f} ms, instant {inst * 1000:.1f} ms")
    return 0


def _head_series(url: str) -> float:
    with urllib.request.urlopen(url + "/api/v1/status/tsdb", timeout=30) as resp:
        return float(json.loads(resp.read())["data"]["headStats"]["numSeries"])


if __name__ == "__main__":
    sys.exit(main())
