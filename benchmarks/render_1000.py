"""Render a generated 1,000-model fleet: wall time and peak memory, beside grafanalib's own path.

Run by hand:  python benchmarks/render_1000.py [N_MODELS [VARIANT ...]]
Variants: ``modeldash-dashboards`` (the dashboards family alone: build, normalise, serialise,
lint, write), ``grafanalib-encoder`` (grafanalib's DashboardEncoder + json.dumps for the same
model dashboards), ``modeldash`` (the whole render: dashboards, alerts, promtool tests, k8s,
jobs, lint). Each runs in a fresh subprocess so peak RSS (ru_maxrss) is its own.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = r'''
import json, resource, sys, time
sys.path.insert(0, {here!r})
from fleet import fleet_data
from modeldash.spec.fleet import load_spec_data
variant, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
t0 = time.perf_counter()
spec = load_spec_data(fleet_data(n), "generated")
t_spec = time.perf_counter()
if variant == "modeldash-dashboards":
    # the dashboards alone, as issue 2 measures them: build, normalise, serialise, lint, write
    from pathlib import Path
    from modeldash.scripts.output_dashboards import dashboard_files
    from modeldash.scripts.render import write_tree
    from modeldash.scripts.render_context import RenderContext
    from modeldash.scripts.lint import lint_dashboards
    ctx = RenderContext(spec=spec, out_dir=Path(out))
    files = dashboard_files(ctx)
    t_build = time.perf_counter()
    problems = lint_dashboards(list(ctx.parsed.values()), [spec.datasource.uid])
    t_lint = time.perf_counter()
    write_tree(files, Path(out))
    size = sum(len(v) for v in files.values())
    extra = dict(files=len(files), lint_problems=len(problems), build_s=t_build - t_spec, lint_s=t_lint - t_build)
elif variant == "modeldash":
    from pathlib import Path
    from modeldash.scripts.render import build_files, write_tree
    from modeldash.scripts.lint_output import lint_files
    files, ctx = build_files(spec, Path(out))
    t_build = time.perf_counter()
    problems = lint_files(files, spec, ctx.parsed)
    t_lint = time.perf_counter()
    write_tree(files, Path(out))
    size = sum(len(v) for v in files.values())
    extra = dict(files=len(files), lint_problems=len(problems), build_s=t_build - t_spec, lint_s=t_lint - t_build)
else:
    # grafanalib's own path: the same panels as grafanalib objects, serialised by its
    # DashboardEncoder with json.dumps (no normalisation: grafanalib's legacy model).
    import grafanalib.core as g
    from grafanalib._gen import DashboardEncoder
    from modeldash.dashboards import model as mdash
    from modeldash.dashboards.layout import place
    import modeldash.dashboards.layout as layout
    captured = []
    real = layout.assemble
    def capture(spec, kind, uid, title, description, tags, slots, variables=(), links=(), refresh="1m"):
        captured.append(g.Dashboard(title=title, uid=uid, panels=place(kind, slots), tags=tags))
        return {{}}
    mdash.assemble = capture
    for m in spec.models:
        mdash.model_dashboard(spec, m)
    t_build = time.perf_counter()
    size = 0
    for d in captured:
        size += len(json.dumps(d.to_json_data(), cls=DashboardEncoder, indent=2, sort_keys=True))
    extra = dict(dashboards=len(captured), build_s=t_build - t_spec, serialise_s=time.perf_counter() - t_build)
total = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(dict(variant=variant, models=n, wall_s=round(total, 2), spec_s=round(t_spec - t0, 2),
                      peak_mb=round(peak), bytes=size, **{{k: (round(v, 2) if isinstance(v, float) else v) for k, v in extra.items()}})))
'''


def run(variant: str, n: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", CHILD.format(here=str(HERE)), variant, str(n), str(Path(tmp) / "out")],
            capture_output=True, text=True,
        )
        if proc.returncode:
            raise SystemExit(f"{variant} failed:\n{proc.stderr[-2000:]}")
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        result["process_s"] = round(time.perf_counter() - t0, 2)
        return result


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    variants = sys.argv[2:] or ["modeldash-dashboards", "grafanalib-encoder", "modeldash"]
    for variant in variants:
        print(json.dumps(run(variant, n)))


if __name__ == "__main__":
    main()
