"""Time to build the k8s/ and provisioning/ trees for a generated fleet (default 1,000 models).

Run by hand:  python benchmarks/k8s_render.py [--models 1000] [--out DIR]
The fleet is benchmarks/fleet.py's generated one (the same as render_1000.py).

Prints the time of the k8s output family alone (dashboards built beforehand, as in a render),
the time of a whole `build_files` (every family + kustomization), the lint of the k8s tree,
the number of manifests and the largest ConfigMap.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from modeldash.alerts import build as alerts
from modeldash.dashboards.build import build_dashboards
from modeldash.spec.fleet import load_spec_data
from modeldash.scripts.lint_k8s import lint_manifests
from modeldash.scripts.output_k8s import kustomization_file, render_k8s
from modeldash.scripts.errors import BadInput
from modeldash.scripts.render import build_files, write_tree
from modeldash.scripts.render_context import RenderContext

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fleet import fleet_data  # noqa: E402  (the benchmark fleet shared with render_1000.py)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=None, help="also write the tree here (default: a temp dir)")
    ap.add_argument("--server-side-apply", action="store_true",
                    help="set kubernetes.server_side_apply: true (ConfigMaps may exceed 262,144 bytes)")
    args = ap.parse_args()

    t0 = time.perf_counter()
    data = fleet_data(args.models)
    if args.server_side_apply:
        data["kubernetes"] = {"server_side_apply": True}
    spec = load_spec_data(data, "<generated>")
    t1 = time.perf_counter()
    boards = [(d.uid, d.folder_title, d.json) for d in build_dashboards(spec)]
    ctx = RenderContext(spec=spec, out_dir=Path(tempfile.gettempdir()) / "modeldash-bench-none")
    alerting = ctx.grafana_alerting  # as k8s_alerting_files takes them
    rules = alerts.prometheus_rule_manifests(spec, rules=ctx.prometheus_rules)
    t2 = time.perf_counter()
    result = render_k8s(spec, boards, alerting, rules, None)
    files = dict(result.files)
    files["k8s/kustomization.yaml"] = kustomization_file(files)
    t3 = time.perf_counter()
    problems = lint_manifests(files)
    t4 = time.perf_counter()
    try:
        all_files, _ctx = build_files(spec, Path(tempfile.gettempdir()) / "modeldash-bench-none")
        error = None
    except BadInput as exc:  # a ConfigMap over a limit: render would stop here with exit 2
        all_files, error = {}, str(exc)
    t5 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp) / "out"
        if all_files:
            write_tree(all_files, out)
        t6 = time.perf_counter()

    k8s_bytes = sum(len(t.encode()) for r, t in files.items() if r.startswith("k8s/"))
    print(f"models: {args.models}; server_side_apply: {spec.kubernetes.server_side_apply}")
    print(f"spec load: {t1 - t0:.2f} s; dashboards + alerts built: {t2 - t1:.2f} s ({len(boards)} dashboards, "
          f"alerts module {'present' if alerting is not None else 'absent'})")
    print(f"k8s + provisioning trees (render_k8s + kustomization): {t3 - t2:.2f} s, "
          f"{result.manifests} manifests, {k8s_bytes / 1e6:.1f} MB under k8s/")
    print(f"largest ConfigMap: {result.largest[0]} {result.largest[1]:,} bytes; size problems: {len(result.problems)}")
    print(f"lint_manifests: {t4 - t3:.2f} s, {len(problems)} problem(s)")
    print(f"whole build_files (all families): {t5 - t4:.2f} s, {len(all_files)} files; write_tree: {t6 - t5:.2f} s")
    for problem in result.problems:
        print(f"size problem: {problem}")
    if error:
        print(f"render would stop with exit 2: {error}")


if __name__ == "__main__":
    main()
