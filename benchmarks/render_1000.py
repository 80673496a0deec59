"""Render a generated 1,000-model fleet: wall time and peak memory, beside grafanalib's own path.

Run by hand:  python benchmarks/render_1000.py [--spread] [N_MODELS [VARIANT ...]]
(``--spread``: fleet.spread_fleet_data, 40 namespaces, 2-5 classes, 5-12 features)
Variants: ``modeldash-dashboards`` (the dashboards family alone: build, normalise, serialise,
lint, write), ``grafanalib-encoder`` (grafanalib's DashboardEncoder + json.dumps for the same
model dashboards), ``modeldash`` (the whole render: dashboards, alerts, promtool tests, k8s,
jobs, lint; from 100 models in lanes, forked processes), ``modeldash-one-process`` (the same in
one process). Each runs in a fresh subprocess; peak memory is sampled from outside over it and
its forks (``peak_pss_all_mb``: shared pages counted once; ``peak_rss_all_mb``: in each).
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from proc_memory import sample_peak_memory  # noqa: E402

CHILD = r'''
import json, resource, sys, time
sys.path.insert(0, {here!r})
from fleet import GENERATORS
from modeldash.spec.fleet import load_spec_data
variant, n, out, generator = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
t0 = time.perf_counter()
spec = load_spec_data(GENERATORS[generator](n), "generated")
t_spec = time.perf_counter()
if variant == "modeldash-dashboards":
    # the dashboards alone, as issue 2 measures them: build, normalise, serialise, lint, write
    from pathlib import Path
    from modeldash.scripts.lint_output import TreeLint
    from modeldash.scripts.output_dashboards import dashboard_files
    from modeldash.scripts.output_tree import OutputTree
    from modeldash.scripts.render_context import RenderContext
    ctx = RenderContext(spec=spec, out_dir=Path(out))
    lint, size, count = TreeLint(spec), 0, 0
    with OutputTree(Path(out)) as tree:
        for rel, text in dashboard_files(ctx):
            lint.add(rel, text, ctx.parsed.pop(rel, None))
            tree.add(rel, text)
            size, count = size + len(text), count + 1
        problems = lint.finish()
        tree.commit()
    extra = dict(files=count, lint_problems=len(problems))
elif variant in ("modeldash", "modeldash-one-process"):
    # the whole render as `modeldash render` runs it: streamed, linted, written (its lanes in
    # forked processes; -one-process: as with --processes 1)
    from pathlib import Path
    from modeldash.scripts.render import render_to
    done = render_to(spec, Path(out), processes=1 if variant == "modeldash-one-process" else None)
    files = [p for p in Path(out).rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    extra = dict(files=done.files, lint_problems=len(done.problems))
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
usage = resource.getrusage(resource.RUSAGE_SELF)
children = resource.getrusage(resource.RUSAGE_CHILDREN)  # a render's forked lanes
peak = usage.ru_maxrss / 1024
print(json.dumps(dict(variant=variant, generator=generator, models=n, wall_s=round(total, 2), cpu_s=round(usage.ru_utime + usage.ru_stime + children.ru_utime + children.ru_stime, 2), spec_s=round(t_spec - t0, 2),
                      peak_mb=round(peak), peak_child_mb=round(children.ru_maxrss / 1024), bytes=size, **{{k: (round(v, 2) if isinstance(v, float) else v) for k, v in extra.items()}})))
'''


def run(variant: str, n: int, generator: str = "fleet") -> dict:
    """One variant in a fresh process; its peak memory summed over it and its forks, sampled
    every 20 ms from here (so the sampling costs the render nothing)."""
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD.format(here=str(HERE)), variant, str(n), str(Path(tmp) / "out"), generator],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        peak_pss, peak_rss = sample_peak_memory(proc)
        stdout, stderr = proc.communicate()
        if proc.returncode:
            raise SystemExit(f"{variant} failed:\n{stderr[-2000:]}")
        result = json.loads(stdout.strip().splitlines()[-1])
        result["process_s"] = round(time.perf_counter() - t0, 2)
        result["peak_pss_all_mb"] = round(peak_pss / 1024)  # every process of the render, shared pages once
        result["peak_rss_all_mb"] = round(peak_rss / 1024)  # the same, shared pages counted in each
        return result


def main() -> None:
    args = sys.argv[1:]
    generator = "spread" if "--spread" in args else "fleet"
    args = [a for a in args if a != "--spread"]
    n = int(args[0]) if args else 1000
    variants = args[1:] or ["modeldash-dashboards", "grafanalib-encoder", "modeldash"]
    for variant in variants:
        print(json.dumps(run(variant, n, generator)), flush=True)


if __name__ == "__main__":
    main()
