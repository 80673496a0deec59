"""Benchmark: `modeldash drift-job` on 1,000,000 production rows x 20 numeric features against a
100,000-row baseline, beside Evidently's data-drift preset on the same data.

Run by hand (never in the test suite):

    python benchmarks/drift_job.py [--evidently-python /path/to/venv/bin/python] [--csv]

Each measured command runs in its own child process; wall time is measured around it and peak
memory is the child's ``ru_maxrss`` (``resource.getrusage(RUSAGE_CHILDREN)`` in a fresh wrapper
process, so no other child is counted). Evidently is never a dependency of modeldash: install it
into a throwaway venv (``python -m venv /tmp/ev && /tmp/ev/bin/pip install evidently pyarrow``)
and pass that venv's python with ``--evidently-python``.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import yaml

FEATURES = [f"f{i:02d}" for i in range(20)]
PROD_ROWS, BASE_ROWS = 1_000_000, 100_000
T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)

MEASURE = textwrap.dedent("""
    import json, resource, subprocess, sys, time
    t = time.perf_counter()
    proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
    wall = time.perf_counter() - t
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"rc": proc.returncode, "wall_s": wall, "peak_mib": peak_kib / 1024,
                      "stdout": proc.stdout[-2000:], "stderr": proc.stderr[-2000:]}))
""")

EVIDENTLY = textwrap.dedent("""
    import sys, pandas as pd
    ref = pd.read_parquet(sys.argv[1])
    cur = pd.read_parquet(sys.argv[2], columns=[c for c in ref.columns])
    try:  # Evidently >= 0.7
        from evidently import Report
        from evidently.presets import DataDriftPreset
        snapshot = Report([DataDriftPreset()]).run(reference_data=ref, current_data=cur)
        out = snapshot.dict()
    except ImportError:  # Evidently 0.4 - 0.6 (legacy API)
        from evidently.report import Report
        from evidently.metric_preset import DataDriftPreset
        report = Report(metrics=[DataDriftPreset()])
        report.run(reference_data=ref, current_data=cur)
        out = report.as_dict()
    import evidently
    print("evidently", getattr(evidently, "__version__", "?"), "metrics:", len(out.get("metrics", [])))
""")


def measure(cmd: list[str]) -> dict:
    out = subprocess.run([sys.executable, "-c", MEASURE, *cmd], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def make_data(root: Path, csv: bool) -> None:
    rng = np.random.default_rng(42)
    base = {f: rng.normal(i, 1 + i / 10, BASE_ROWS) for i, f in enumerate(FEATURES)}
    pq.write_table(pa.table(base), root / "baseline.parquet")
    # production: half of the features shifted a little, one hour of timestamps
    prod = {f: rng.normal(i + (0.2 if i % 2 else 0.0), 1 + i / 10, PROD_ROWS) for i, f in enumerate(FEATURES)}
    micros = int(T0.timestamp() * 1e6) + np.arange(PROD_ROWS, dtype=np.int64) * 3600 * 10**6 // PROD_ROWS
    prod_table = pa.table({"timestamp": pa.array(micros, pa.timestamp("us", tz="UTC")), **prod})
    pq.write_table(prod_table, root / "production.parquet")
    pq.write_table(prod_table.drop_columns(["timestamp"]), root / "production-features.parquet")
    if csv:
        pcsv.write_csv(prod_table, root / "production.csv")
    spec = {"name": "bench", "models": [{"name": "bench", "namespace": "bench", "task": "regression",
                                         "features": FEATURES}]}
    (root / "fleet.yaml").write_text(yaml.safe_dump(spec))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--evidently-python", help="python of a throwaway venv with evidently installed")
    ap.add_argument("--csv", action="store_true", help="also time the drift job on a CSV copy of the input")
    ap.add_argument("--keep", action="store_true", help="keep the generated data")
    args = ap.parse_args()
    beside = Path(sys.executable).parent / "modeldash"  # the one installed with this python first
    modeldash = str(beside) if beside.exists() else shutil.which("modeldash")
    root = Path(tempfile.mkdtemp(prefix="modeldash-bench-"))
    results = {}
    try:
        make_data(root, args.csv)
        base = measure([modeldash, "baseline", str(root / "fleet.yaml"), "--input", str(root / "baseline.parquet"),
                        "-o", str(root / "baseline.json")])
        assert base["rc"] == 0, base
        results["baseline (100k rows)"] = base
        inputs = [("parquet", root / "production.parquet")] + ([("csv", root / "production.csv")] if args.csv else [])
        for kind, path in inputs:
            r = measure([modeldash, "drift-job", str(root / "fleet.yaml"), "--baseline", str(root / "baseline.json"),
                         "--input", str(path), "--end", (T0 + timedelta(hours=1)).isoformat(), "--window", "1h",
                         "--dry-run", "--report", str(root / f"report-{kind}.json")])
            assert r["rc"] == 0, r
            rep = json.loads((root / f"report-{kind}.json").read_text())
            assert rep["rows"] == PROD_ROWS, rep["rows"]
            results[f"modeldash drift-job ({kind})"] = r
        if args.evidently_python:
            script = root / "evidently_run.py"
            script.write_text(EVIDENTLY)
            r = measure([args.evidently_python, str(script), str(root / "baseline.parquet"),
                         str(root / "production-features.parquet")])
            results["evidently DataDriftPreset"] = r
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(f"{PROD_ROWS:,} production rows x {len(FEATURES)} numeric features vs a {BASE_ROWS:,}-row baseline")
    for name, r in results.items():
        status = "ok" if r["rc"] == 0 else f"FAILED rc={r['rc']}: {r['stderr'].strip().splitlines()[-1:]}"
        print(f"  {name:34s} wall {r['wall_s']:7.2f} s   peak RSS {r['peak_mib']:7.0f} MiB   {status}")
        if name.startswith("evidently"):
            print(f"    {r['stdout'].strip()}")
    ours = results.get("modeldash drift-job (parquet)")
    ev = results.get("evidently DataDriftPreset")
    if ours and ev and ev["rc"] == 0:
        print(f"  speed-up vs Evidently: {ev['wall_s'] / ours['wall_s']:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
