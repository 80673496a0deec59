"""Benchmark: what the generated rules cost a real Prometheus, before and after, side by side.

Run by hand (never in the test suite), niced, a few minutes:

    nice -n 10 python benchmarks/rule_evaluation.py --models 200 --before-ref main

One simulator process serves a fleet of N models (``recording_rules.fleet_of``: the example
fleet's models repeated over their backends). Two Prometheus servers scrape it at the same time:

- before: the rules ``--before-ref`` renders (its code from ``git archive``, run by this Python
  with that tree first on ``sys.path``), e.g. main, where the serving alerts recompute
  ``histogram_quantile`` and error ratios from raw series;
- after: the rules of this working tree, where they read the recorded ``model:*`` series.

After ``--warmup`` minutes, each server's own /metrics is read every ``--rule-interval`` for
``--measure`` minutes; the table gives the median over those samples of the sum of
``prometheus_rule_group_last_duration_seconds`` (all groups, the recording groups, the alert
groups) and ``prometheus_tsdb_head_series``, and over the whole window the Prometheus process's
CPU (``process_cpu_seconds_total``, scraping included) and the group iterations it missed.
Both servers share the machine, so load on it hits both alike; on an overloaded machine the
groups' wall durations include waiting for a CPU, which the CPU figure does not. Rate windows
are 5m: with a few minutes of data they are not yet full, which under-states both sides alike.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from recording_rules import fleet_of, simulator_process  # benchmarks/ is on sys.path when run as a script

from modeldash.alerts.build import prometheus_rules
from modeldash.scripts.prometheus_harness import PrometheusServer
from modeldash.simulator import Simulator

REPO = Path(__file__).resolve().parent.parent
DUMP_RULES = """
import json, sys, yaml
from modeldash.spec.fleet import load_spec_data
from modeldash.alerts.build import prometheus_rules
import modeldash
assert modeldash.__file__.startswith(sys.argv[1]), modeldash.__file__
data = yaml.safe_load(open(sys.argv[2]))
print(json.dumps(prometheus_rules(load_spec_data(data, "<bench>"))))
"""


def rules_at(ref: str, data: dict, tmp: Path) -> dict:
    """The rules ``ref``'s code renders for ``data``: its tree unpacked, mapped as the modeldash
    package the way pyproject.toml maps it, and imported ahead of the installed one."""
    src = tmp / "src"
    src.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", ref], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
        tar.extractall(src, filter="data")
    dirs = tomllib.loads((src / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    pkg = tmp / "path" / "modeldash"
    pkg.mkdir(parents=True)
    for f in (src / dirs["modeldash"]).iterdir():
        (pkg / f.name).symlink_to(f)
    for name, folder in dirs.items():
        if name != "modeldash":
            (pkg / name.split(".", 1)[1]).symlink_to(src / folder)
    spec_file = tmp / "fleet.json"
    spec_file.write_text(json.dumps(data))
    out = subprocess.run([sys.executable, "-c", DUMP_RULES, str(tmp / "path"), str(spec_file)], check=True,
                         capture_output=True, text=True, env={"PYTHONPATH": str(tmp / "path"), "PATH": "/usr/bin:/bin"})
    return json.loads(out.stdout)


def own_metrics(url: str) -> dict[str, float]:
    """Sums over this Prometheus's rule groups, from its /metrics."""
    with urllib.request.urlopen(url + "/metrics", timeout=30) as resp:
        text = resp.read().decode()
    out = {"all groups s": 0.0, "recording groups s": 0.0, "alert groups s": 0.0, "head series": 0.0,
           "cpu s": 0.0, "missed iterations": 0.0}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            if s.name == "prometheus_rule_group_last_duration_seconds":
                kind = "recording" if "recording" in s.labels["rule_group"] else "alert"
                out["all groups s"] += s.value
                out[f"{kind} groups s"] += s.value
            elif s.name == "prometheus_tsdb_head_series":
                out["head series"] = s.value
            elif s.name == "process_cpu_seconds_total":
                out["cpu s"] = s.value
            elif s.name == "prometheus_rule_group_iterations_missed_total":
                out["missed iterations"] += s.value
    return out


def counts(rules: dict) -> str:
    recs = sum("record" in r for g in rules["groups"] for r in g["rules"])
    alerts = sum("alert" in r for g in rules["groups"] for r in g["rules"])
    return f"{len(rules['groups'])} groups, {recs} recording, {alerts} alerting rules"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", type=int, default=200)
    ap.add_argument("--before-ref", default="main", help="git ref whose rules are the 'before' side")
    ap.add_argument("--warmup", type=float, default=2.0, help="minutes before measuring")
    ap.add_argument("--measure", type=float, default=2.0, help="minutes of samples")
    ap.add_argument("--scrape-interval", default="15s")
    ap.add_argument("--rule-interval", default="30s", help="every group's evaluation interval")
    args = ap.parse_args(argv)

    spec, data = fleet_of(args.models)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        sides = {"before": rules_at(args.before_ref, data, tmp), "after": prometheus_rules(spec)}
        for rules in sides.values():
            for group in rules["groups"]:
                group["interval"] = args.rule_interval
        with simulator_process(data, tmp) as address:
            scrape = Simulator(spec).scrape_configs(address)
            servers = {k: PrometheusServer(scrape, rules, interval=args.scrape_interval) for k, rules in sides.items()}
            try:
                for s in servers.values():
                    s.start(timeout=180)
                print(f"{args.models} models, simulator {address}; before = {args.before_ref} "
                      f"({counts(sides['before'])}), after = this tree ({counts(sides['after'])}); "
                      f"scrape {args.scrape_interval}, rules {args.rule_interval}; warm-up {args.warmup:g} min, "
                      f"then {args.measure:g} min of samples",
                      flush=True)
                time.sleep(args.warmup * 60)
                step = float(args.rule_interval.rstrip("s"))
                samples = {k: [] for k in servers}
                deadline = time.monotonic() + args.measure * 60
                while time.monotonic() < deadline:
                    for k, s in servers.items():
                        samples[k].append({**own_metrics(s.url), "at": time.monotonic()})
                    time.sleep(step)
            finally:
                for s in servers.values():
                    s.stop()
    window = {"cpu s": "CPU s per s (whole window)", "missed iterations": "missed iterations (window)"}
    print(f"\nmedian of {len(samples['before'])} samples   {'before':>12} {'after':>12} {'after/before':>13}")
    for key in samples["before"][0]:
        if key == "at":
            continue
        if key in window:
            b, a = (samples[k][-1][key] - samples[k][0][key] for k in ("before", "after"))
            if key == "cpu s":
                b, a = (x / (samples[k][-1]["at"] - samples[k][0]["at"]) for x, k in ((b, "before"), (a, "after")))
        else:
            b, a = (statistics.median(x[key] for x in samples[k]) for k in ("before", "after"))
        fmt = "{:12.0f}" if key in ("head series", "missed iterations") else "{:12.4f}"
        label = window.get(key, key)
        print(f"{label:30} {fmt.format(b)} {fmt.format(a)} {a / b if b else float('nan'):13.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
