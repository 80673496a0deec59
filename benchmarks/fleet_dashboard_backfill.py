"""Benchmark: the fleet overview's query time on N models' data, backfilled (no simulator).

Run by hand (never in the test suite), e.g.:

    nice -n 10 python benchmarks/fleet_dashboard_backfill.py --models 1000 --runs 5

``fleet_dashboard.py`` scrapes a live simulator; at 1,000 models on a loaded 2-core machine the
simulator cannot render its serving endpoint within a scrape timeout. The fleet dashboard only
reads recorded series, the generated ``model:info`` / ``model:threshold`` series, the drift and
quality gauges and ``ALERTS``, so this writes exactly those for N models (one hour at the
recording interval, the values the recording rules would produce), turns them into TSDB blocks
with ``promtool tsdb create-blocks-from openmetrics`` and queries a real Prometheus over them.
"""
from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fleet_dashboard import time_panels  # sibling benchmarks
from recording_rules import fleet_of

from modeldash.alerts.build import recording_rules
from modeldash.alerts import recording_rules as rr
from modeldash.dashboards.build import build_dashboards
from modeldash.datasources import metrics as m
from modeldash.scripts.live_lint import iter_panels
from modeldash.scripts.prometheus_harness import PrometheusServer

def _labels(d: dict) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in sorted(d.items())) + "}"


def openmetrics(spec, start: int, end: int, step: int) -> tuple[str, int]:
    rnd = random.Random(1)
    series: list[tuple[str, dict, float]] = []
    for r in recording_rules(spec):
        if r.record in rr.RECORDED_NAMES:
            value = {rr.RECORDED_REQUEST_RATE: 10.0, rr.RECORDED_ERROR_RATIO: 0.002}.get(r.record, 0.1)
            series.append((r.record, r.labels, value * rnd.uniform(0.5, 1.5)))
        else:  # model:info / model:threshold: the constant the rule evaluates to
            series.append((r.record, r.labels, float(r.expr.removeprefix("vector(").removesuffix(")"))))
    for model in spec.models:
        for f in model.features:
            series.append((m.DRIFT_SCORE.name, {"model": model.name, "feature": f.name,
                                                "method": model.thresholds.drift.method}, rnd.uniform(0, 0.2)))
        if model.ground_truth:
            metric = m.ACCURACY if model.task == "classification" else m.RMSE
            series.append((metric.name, {"model": model.name}, 0.95 if metric is m.ACCURACY else 100.0))
    lines = []
    for name, labels, value in series:
        for t in range(start, end + 1, step):
            lines.append(f"{name}{_labels(labels)} {value:.6g} {t}")
    lines.append("# EOF")
    return "\n".join(lines) + "\n", len(series)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--step", type=int, default=60, help="seconds between samples (the rule interval)")
    args = ap.parse_args(argv)

    spec, _ = fleet_of(args.models)
    fleet = next(d.json for d in build_dashboards(spec) if d.kind == "fleet")
    panels = [p for p in iter_panels(fleet["panels"]) if p.get("targets")]
    end = int(time.time())
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        text, n_series = openmetrics(spec, end - 3600, end, args.step)
        (root / "data.om").write_text(text)
        (root / "data").mkdir()
        t0 = time.perf_counter()
        subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", str(root / "data.om"),
                        str(root / "data")], check=True, capture_output=True)
        print(f"{args.models} models: {n_series} series x {3600 // args.step + 1} samples backfilled in "
              f"{time.perf_counter() - t0:.1f} s", flush=True)
        with PrometheusServer([], None, keep_dir=root) as prom:
            time_panels(prom.url, panels, args.runs, at=end)
    return 0


if __name__ == "__main__":
    sys.exit(main())
