"""The fleet-scale table: wall, peak RSS, output size, files and rules of a whole ``modeldash render``.

Run by hand (nice -n 10 on a shared machine):
  python benchmarks/scale_table.py [--python PY] [--generator fleet|spread] [--sizes 30,100,1000]
                                   [--server-side-apply] [--test-rules] [--rerender]
Each render is the command line in a fresh process (``PY -m modeldash render``), so a baseline
checkout's interpreter can be measured with the same script. Peak is GNU time's max RSS (the
largest process), peak_pss_all_mb the sampled sum over the render's processes; cpu_s
its user + system time (what to compare when the machine is shared and wall time is noise);
``--test-rules`` adds the promtool test files' count and largest sizes, and ``modeldash test-rules``'
wall and CPU time (promtool's children included) and case count; ``--rerender`` the time of
rendering into the same folder again, unchanged and with one model's threshold changed (what
render said it changed).
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fleet import GENERATORS  # noqa: E402
from proc_memory import sample_peak_memory  # noqa: E402

_CASES = re.compile(r"(\d+) test cases")


def count_rules(out: Path) -> tuple[int, int, int]:
    """(alert rules, recording rules, groups) of the rendered Prometheus rules."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    alerts = records = groups = 0
    for path in sorted((out / "prometheus").glob("rules*.yaml")):
        for g in (yaml.load(path.read_text(), Loader=loader) or {}).get("groups", []):
            groups += 1
            for r in g.get("rules", []):
                alerts += "alert" in r
                records += "record" in r
    return alerts, records, groups


def measure(python: str, generator: str, n: int, ssa: bool, test_rules: bool, rerender: bool = False) -> dict:
    data = GENERATORS[generator](n)
    if ssa:
        data.setdefault("kubernetes", {})["server_side_apply"] = True
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "fleet.yaml"
        spec.write_text(yaml.safe_dump(data, sort_keys=False))
        out = Path(tmp) / "out"
        t0 = time.perf_counter()
        run = subprocess.Popen(["/usr/bin/time", "-f", "peak_kb=%M cpu=%U+%S", python, "-m", "modeldash", "render",
                                str(spec), "-o", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        pss_kb, rss_kb = sample_peak_memory(run)  # over the render's lanes (forked processes) too
        stdout, stderr = run.communicate()
        proc = subprocess.CompletedProcess(run.args, run.returncode, stdout, stderr)
        wall = time.perf_counter() - t0
        peak = re.search(r"peak_kb=(\d+) cpu=([\d.]+)\+([\d.]+)", proc.stderr)
        row = {"generator": generator, "models": n, "server_side_apply": ssa, "wall_s": round(wall, 1),
               "cpu_s": round(float(peak.group(2)) + float(peak.group(3)), 1) if peak else None,
               "peak_mb": round(int(peak.group(1)) / 1024) if peak else None,  # the largest process
               "peak_pss_all_mb": round(pss_kb / 1024), "peak_rss_all_mb": round(rss_kb / 1024)}
        if proc.returncode:
            row["refused"] = (proc.stderr.strip().splitlines() or ["?"])[0][:200]
            return row
        files = [p for p in out.rglob("*") if p.is_file()]
        alerts, records, groups = count_rules(out)
        row.update(files=len(files), output_mb=round(sum(p.stat().st_size for p in files) / 1e6, 1),
                   alert_rules=alerts, recording_rules=records, rule_groups=groups,
                   largest_file_kb=round(max(p.stat().st_size for p in files) / 1024))
        if rerender:  # the same out again: unchanged, then with one model's threshold changed
            for key, change in (("rerender", None), ("one_change", n // 2)):
                if change is not None:
                    data["models"][change].setdefault("thresholds", {})["latency_p95"] = {"warning": "321ms"}
                    spec.write_text(yaml.safe_dump(data, sort_keys=False))
                t0 = time.perf_counter()
                again = subprocess.run(["/usr/bin/time", "-f", "cpu=%U+%S", python, "-m", "modeldash", "render",
                                        str(spec), "-o", str(out)], capture_output=True, text=True)
                cpu = re.search(r"cpu=([\d.]+)\+([\d.]+)", again.stderr)
                said = re.search(r"\((\d+ files[^)]*)\)\s*$", again.stdout)
                row.update({f"{key}_s": round(time.perf_counter() - t0, 1),
                            f"{key}_cpu_s": round(float(cpu.group(1)) + float(cpu.group(2)), 1) if cpu else None,
                            f"{key}_said": said.group(1) if said else again.stderr.strip()[-200:]})
        if test_rules:
            tests = sorted((out / "prometheus" / "tests").glob("*.yaml"))
            rules = sorted((out / "prometheus" / "tests" / "rules").glob("*.yaml"))
            row.update(test_files=len(tests), largest_test_kb=round(max(p.stat().st_size for p in tests) / 1024),
                       largest_test_rules_kb=round(max(p.stat().st_size for p in rules) / 1024))
            t0 = time.perf_counter()
            tr = subprocess.run(["/usr/bin/time", "-f", "cpu=%U+%S", python, "-m", "modeldash", "test-rules", str(out)],
                                capture_output=True, text=True)
            cases = _CASES.search(tr.stdout)
            cpu = re.search(r"cpu=([\d.]+)\+([\d.]+)", tr.stderr)
            row.update(test_rules_s=round(time.perf_counter() - t0, 1), test_rules_rc=tr.returncode,
                       test_rules_cpu_s=round(float(cpu.group(1)) + float(cpu.group(2)), 1) if cpu else None,
                       test_cases=int(cases.group(1)) if cases else None)
        return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--generator", default="fleet", choices=sorted(GENERATORS))
    ap.add_argument("--sizes", default="30,100,1000")
    ap.add_argument("--server-side-apply", action="store_true")
    ap.add_argument("--test-rules", action="store_true")
    ap.add_argument("--rerender", action="store_true",
                    help="render into the same folder twice more: unchanged, then one model's threshold changed")
    args = ap.parse_args()
    for n in (int(s) for s in args.sizes.split(",")):
        print(json.dumps(measure(args.python, args.generator, n, args.server_side_apply, args.test_rules,
                                 args.rerender)), flush=True)


if __name__ == "__main__":
    main()
