"""Benchmark: rule-evaluation time of a fleet with objectives on every model, on the real Prometheus.

Run by hand (never in the test suite):

    python benchmarks/slo_rules.py --models 200 --minutes 3

The example fleet's models repeated to N (``recording_rules.fleet_of``; every model inherits the
example's ``defaults.slo``: availability and latency), served by the simulator in its own process
and scraped by the real Prometheus, which evaluates the whole rules file (recording, SLO and alert
groups) every ``--interval``. After ``--minutes`` it samples ``prometheus_rule_group_last_duration_seconds``
a few times and prints the sum over every group, the SLO groups alone and the slowest group,
plus the rule counts with and without objectives.

The budget-window rules read 28 days of recorded series: with only minutes of data their cost
here is a lower bound (docs/slo.md has the per-evaluation sample estimate at 28 days).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from recording_rules import fleet_of, simulator_process

from modeldash.alerts.build import prometheus_rules
from modeldash.scripts.prometheus_harness import PrometheusServer
from modeldash.simulator import Simulator
from modeldash.spec.fleet import load_spec_data


def own_metrics(url: str) -> tuple[dict[str, float], float]:
    """``prometheus_rule_group_last_duration_seconds`` per group and ``process_cpu_seconds_total``,
    from Prometheus' own /metrics (the harness does not scrape Prometheus itself)."""
    with urllib.request.urlopen(url + "/metrics", timeout=30) as resp:
        text = resp.read().decode()
    out, cpu = {}, float("nan")
    for fam in text_string_to_metric_families(text):
        if fam.name == "prometheus_rule_group_last_duration_seconds":
            for sample in fam.samples:
                out[sample.labels["rule_group"].rsplit(";", 1)[-1]] = sample.value
        elif fam.name == "process_cpu_seconds":
            cpu = fam.samples[0].value
    return out, cpu


def rule_count(rules: dict) -> int:
    return sum(len(g["rules"]) for g in rules["groups"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", type=int, default=200)
    ap.add_argument("--minutes", type=float, default=3.0, help="data to collect before sampling")
    ap.add_argument("--interval", default="15s", help="scrape and rule evaluation interval")
    ap.add_argument("--samples", type=int, default=5, help="readings of the group durations, one an interval")
    ap.add_argument("--no-objectives", action="store_true", help="the same fleet without objectives (baseline)")
    args = ap.parse_args(argv)

    spec, data = fleet_of(args.models)
    rules = prometheus_rules(spec)
    without = dict(data, defaults={k: v for k, v in data["defaults"].items() if k != "slo"})
    base_spec = load_spec_data(without, "<without objectives>")
    base = prometheus_rules(base_spec)
    if args.no_objectives:
        spec, data, rules = base_spec, without, base
    n_slo = rule_count(rules) - rule_count(base)
    print(f"rules: {rule_count(rules)} with objectives, {rule_count(base)} without "
          f"({n_slo / args.models:.0f} more per model: {n_slo} SLO rules)")
    for group in rules["groups"]:
        group["interval"] = args.interval
    with tempfile.TemporaryDirectory() as tmp, simulator_process(data, Path(tmp)) as address:
        prom = PrometheusServer(Simulator(spec).scrape_configs(address), rules, interval=args.interval)
        prom.start(timeout=180)  # 10,000 rules take a while to load on a busy machine
        try:
            sample(prom, args, step_of(args.interval))
        finally:
            prom.stop()
    return 0


def step_of(interval: str) -> float:
    return float(interval.rstrip("s"))


def sample(prom, args, step: float) -> None:
    """Collect, then read the group durations and CPU a few times, one an interval."""
    print(f"{args.models} models, {len(prom.rules['groups'])} rule groups, Prometheus {prom.url}; "
          f"collecting {args.minutes:g} min...", flush=True)
    time.sleep(args.minutes * 60)
    totals, slo, worst = [], [], []
    _, cpu0 = own_metrics(prom.url)
    t0 = time.monotonic()
    for _ in range(args.samples):
        values, cpu1 = own_metrics(prom.url)
        totals.append(sum(values.values()))
        slo.append(sum(v for g, v in values.items() if g.startswith("modeldash-slo-")))
        worst.append(max(values.items(), key=lambda kv: kv[1]))
        time.sleep(step)
    print(f"sum of prometheus_rule_group_last_duration_seconds over {len(values)} groups: median "
          f"{statistics.median(totals) * 1000:.1f} ms (min {min(totals) * 1000:.1f}, max {max(totals) * 1000:.1f})")
    print(f"  of which SLO groups ({sum(g.startswith('modeldash-slo-') for g in values)}): median "
          f"{statistics.median(slo) * 1000:.1f} ms")
    g, v = max(worst, key=lambda kv: kv[1])
    print(f"  slowest group: {g} {v * 1000:.1f} ms")
    per_cycle = (cpu1 - cpu0) / (time.monotonic() - t0) * step
    print(f"Prometheus CPU (scrapes + rules + these reads): {per_cycle:.2f} s per {args.interval} cycle; "
          "group durations are wall time and include waiting for CPU and the query gate")


if __name__ == "__main__":
    sys.exit(main())
