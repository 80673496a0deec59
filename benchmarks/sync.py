"""Sync benchmark against the Grafana stand-in with 20 ms added to every request.

Run by hand from the repository root:  python benchmarks/sync.py [--models 497] [--latency 0.02]

Measures a first sync of ~500 dashboards (the real dashboard builders: fleet, platform,
infrastructure + one per model) with one rule group per model, a no-op resync, and a
resync after one model changed. Prints wall time, requests and writes of each.
"""
from __future__ import annotations

import argparse
import copy
import subprocess
import sys
import time
from pathlib import Path

import niquests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

import sync_fixtures as fx  # noqa: E402

from modeldash.dashboards.build import build_dashboards  # noqa: E402
from modeldash.sync.desired_state import build_desired  # noqa: E402
from modeldash.spec.fleet import load_spec_data  # noqa: E402
from modeldash.scripts.grafana_http import GrafanaHTTP, Settings  # noqa: E402
from modeldash.scripts.sync_engine import run_sync  # noqa: E402

TOKEN = "standin-admin-token-0123456789"


def fleet(n: int, changed: bool = False) -> dict:
    models = []
    for i in range(n):
        m = {"name": f"model-{i:03d}", "namespace": "ml", "task": "classification",
             "classes": {"yes": 0.3, "no": 0.7}, "features": ["f1", "f2"]}
        if changed and i == n // 2:
            m["thresholds"] = {"latency_p95": {"warning": "300ms", "critical": "2s"}}
        models.append(m)
    return {"name": "bench-fleet", "grafana": {"folder": "ML Models"}, "models": models}


def desired(n: int, changed: bool = False):
    """Real dashboards; real alert rules when this build has them, else one fixture rule per model."""
    spec = load_spec_data(fleet(n, changed), "<bench>")
    try:
        from modeldash.alerts import build as alerts

        groups = alerts.grafana_rule_groups(spec)
        source = "alert rules from modeldash.alerts.build"
    except ImportError:
        groups = [fx.rule_group(m.name, spec.folder_uid, 0.3 if changed and i == n // 2 else 0.5)
                  for i, m in enumerate(spec.models)]
        source = "one fixture alert rule per model (modeldash.alerts.build not in this build)"
    objs = build_desired(spec, build_dashboards(spec), fx.CONTACT_POINTS, fx.POLICY_SUBTREE, groups)
    return spec, objs, source


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", type=int, default=497, help="models (dashboards = models + 3 overviews)")
    ap.add_argument("--latency", type=float, default=0.02)
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args()
    spec, first, source = desired(args.models)
    _, changed, _ = desired(args.models, changed=True)
    n_dash = sum(1 for d in first if d.kind == "dashboard")
    n_groups = sum(1 for d in first if d.kind == "rule_group")
    n_rules = sum(len(d.body["rules"]) for d in first if d.kind == "rule_group")
    print(f"{n_dash} dashboards, {n_groups} rule groups with {n_rules} rules ({source}), {len(first)} objects; "
          f"stand-in latency {args.latency * 1000:.0f} ms/request; concurrency {args.concurrency}")
    # The stand-in runs in its own process so its CPU (schema validation, JSON) does not
    # share the interpreter lock with the client being measured.
    server = subprocess.Popen([sys.executable, str(REPO / "tests" / "grafana_standin.py"), "--latency", str(args.latency)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().strip()
        for label, objs in (("first sync", first), ("no-op resync", first), ("one model changed", changed)):
            niquests.get(f"{url}/_standin/reset", timeout=10)
            http = GrafanaHTTP(Settings(url=url, token=TOKEN, concurrency=args.concurrency, timeout=30))
            start = time.monotonic()
            report = run_sync(http, copy.deepcopy(objs), spec.name, apply_changes=True,
                              concurrency=args.concurrency, env=fx.SECRETS)
            elapsed = time.monotonic() - start
            stats = niquests.get(f"{url}/_standin/stats", timeout=10).json()
            c = report.count()
            print(f"{label:<18} {elapsed:7.2f} s  requests {c['requests']:5d} (server saw {stats['total']:5d})  "
                  f"writes {len(stats['writes']):4d}  created {c['created']} updated {c['updated']} "
                  f"unchanged {c['unchanged']} failed {c['failed']}")
            if label == "one model changed":
                print("  written:", ", ".join(stats["writes"]))
            assert not stats["errors"], stats["errors"]
    finally:
        server.stdin.close()
        server.wait(timeout=30)

if __name__ == "__main__":
    main()
