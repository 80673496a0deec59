"""``modeldash test-rules OUT``: run the generated promtool unit tests and report per alert.

The tests ship with the rendered output (``OUT/prometheus/tests/<Alert>[.<namespace>.<model>].yaml``,
one per chunk of an alert's models, each loading ``rules/<same name>.yaml``: that chunk's rules
and the recording rules they read), so anyone can re-run them with promtool alone; this command
checks ``OUT/prometheus/rules.yaml``, runs them all and sums the results per alert name.

promtool takes many test files in one run, so the files are packed into a few runs per core
(largest first onto the lightest run), not one process per file: a 1,000-model fleet writes
hundreds of medium-sized files. Only one representative per rule shape is tested (rules equal
up to the model's identity strings, ``alerts/prometheus_rules.rule_shapes``); the render
manifest's ``promtool_shapes`` says how many rules those tests cover.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import click
import yaml

from modeldash.scripts.errors import BadInput
from modeldash.scripts.render import read_manifest
from modeldash.scripts.serialise import loads_yaml

_FAILED_NAME = re.compile(r"^\s+name: (.*),\s*$")
_SECTION = re.compile(r"^Unit Testing:\s+(.+?)\s*$", re.M)
RUNS_PER_JOB = 3  # promtool runs per parallel slot: few processes, and no one long run left at the end
# promtool's time goes mostly to allocating (it expands every label and annotation template of
# every active alert at every step): a larger GC target and one thread per run (the runs already
# fill the cores) cut its CPU time by about 30 % for ~150 MB per run. The caller's settings win.
GO_ENV = {"GOGC": "400", "GOMAXPROCS": "1"}


@dataclass
class AlertResult:
    alert: str
    cases: int
    failed: list[str]
    output: str
    files: int = 1

    @property
    def ok(self) -> bool:
        return not self.failed and "SUCCESS" in self.output


def find_promtool(explicit: str | None = None) -> str:
    found = explicit or shutil.which("promtool")
    if not found or not Path(found).exists():
        raise BadInput("promtool not found: install Prometheus' promtool (Debian: apt-get install prometheus) "
                       "or pass --promtool PATH")
    return found


def check_rules(promtool: str, rules: Path) -> tuple[bool, str]:
    proc = subprocess.run([promtool, "check", "rules", str(rules)], capture_output=True, text=True)
    return proc.returncode == 0, (proc.stdout + proc.stderr).strip()


def alert_of(path: Path) -> str:
    """The report line a test file counts towards: its name without the chunk suffix
    (``ModelDriftHigh.ns-03.m0042`` -> ``ModelDriftHigh``; ``-every-<N>m`` files keep their own line)."""
    return path.stem.split(".", 1)[0]


def count_file_cases(path: Path) -> int:
    try:
        return len((loads_yaml(path.read_text(encoding="utf-8")) or {}).get("tests") or [])
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise BadInput(f"{path}: cannot read promtool test file ({exc.__class__.__name__})") from None


def run_test_files(promtool: str, paths: list[Path]) -> list[AlertResult]:
    """One promtool run over ``paths`` (one folder), a result per file from its output section."""
    cwd = paths[0].parent
    proc = subprocess.run([promtool, "test", "rules", *(p.name for p in paths)], cwd=cwd, env={**GO_ENV, **os.environ},
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # one stream keeps the order
    out = proc.stdout
    marks = list(_SECTION.finditer(out))
    sections = {m.group(1): out[m.start():marks[i + 1].start() if i + 1 < len(marks) else len(out)]
                for i, m in enumerate(marks)}
    results = []
    for p in paths:
        text = sections.get(p.name, out if len(paths) == 1 else "")
        failed = sorted({m.group(1) for line in text.splitlines() if (m := _FAILED_NAME.match(line))})
        if not failed and "SUCCESS" not in text:
            failed = ["(promtool error: see output)"]
        results.append(AlertResult(alert_of(p), count_file_cases(p), failed, text or out))
    return results


def pack(paths: list[Path], runs: int) -> list[list[Path]]:
    """``paths`` in at most ``runs`` lists of about equal size (test file + its rules file, a proxy
    for promtool's time), largest first onto the lightest list; each list in name order."""
    def size(p: Path) -> int:
        rules = p.parent / "rules" / p.name
        return p.stat().st_size + (rules.stat().st_size if rules.is_file() else 0)

    loads = [[0, []] for _ in range(max(1, min(runs, len(paths))))]
    for p in sorted(paths, key=lambda p: (-size(p), p.name)):
        lightest = min(loads, key=lambda b: b[0])
        lightest[0] += size(p)
        lightest[1].append(p)
    return sorted((sorted(b[1]) for b in loads if b[1]), key=lambda b: b[0].name)


def aggregate(results: list[AlertResult]) -> list[AlertResult]:
    """Results summed per alert name (over its chunks' files), sorted by name."""
    by_alert: dict[str, list[AlertResult]] = defaultdict(list)
    for r in results:
        by_alert[r.alert].append(r)
    out = []
    for alert, rs in sorted(by_alert.items()):
        failed = sorted({f for r in rs for f in r.failed})
        output = "\n".join(r.output for r in rs if not r.ok) or rs[0].output
        out.append(AlertResult(alert, sum(r.cases for r in rs), failed, output, len(rs)))
    return out


def run_all(out_dir: Path, promtool: str | None = None, jobs: int | None = None
            ) -> tuple[bool, str, list[AlertResult], int]:
    """(rules check ok, its output, results per alert name, promtool runs)."""
    promtool = find_promtool(promtool)
    rules = out_dir / "prometheus" / "rules.yaml"
    tests_dir = out_dir / "prometheus" / "tests"
    if not rules.is_file() or not tests_dir.is_dir():
        raise BadInput(f"{out_dir}: no prometheus/rules.yaml and prometheus/tests/ (run modeldash render first)")
    files = sorted(tests_dir.glob("*.yaml"))
    workers = jobs or os.cpu_count() or 2
    batches = pack(files, workers * RUNS_PER_JOB) if files else []
    # the check of the whole rules file (a third of the time at 1,000 models) beside the tests
    with ThreadPoolExecutor(max_workers=1) as checker, ThreadPoolExecutor(max_workers=workers) as pool:
        check = checker.submit(check_rules, promtool, rules)
        results = [r for batch in pool.map(lambda b: run_test_files(promtool, b), batches) for r in batch]
        ok, text = check.result()
    return ok, text, aggregate(results), len(batches)


@click.command("test-rules")
@click.argument("out_dir", default="out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--promtool", "promtool", default=None, help="promtool binary (default: from PATH).")
@click.option("-j", "--jobs", type=int, default=None, help="promtool processes at once (default: CPU count).")
@click.option("-v", "--verbose", is_flag=True, help="Show promtool's output for failing alerts.")
def test_rules(out_dir: Path, promtool: str | None, jobs: int | None, verbose: bool):
    """Run the generated promtool unit tests in OUT_DIR (default: out) and report per alert.

    \b
    Examples:
      modeldash render && modeldash test-rules out
    Exit codes: 0 all pass, 1 a rule check or test failed, 2 bad input or promtool missing.
    """
    from modeldash.scripts.cli_common import EXIT_BAD_INPUT, EXIT_FINDINGS

    started = time.monotonic()
    try:
        rules_ok, rules_text, results, runs = run_all(out_dir, promtool, jobs)
    except BadInput as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    click.echo(f"promtool check rules: {'ok' if rules_ok else 'FAILED'}")
    if not rules_ok:
        click.echo(rules_text, err=True)
    width = max((len(r.alert) for r in results), default=10)
    for r in results:
        status = "pass" if r.ok else "FAIL"
        detail = f"{r.cases} cases" if r.ok else f"{len(r.failed)} of {r.cases} cases failed"
        if r.files > 1:
            detail += f" in {r.files} files"
        click.echo(f"  {status}  {r.alert:<{width}}  {detail}")
        if not r.ok:
            for name in r.failed:
                click.echo(f"        - {name}")
            if verbose:
                click.echo(r.output, err=True)
    total = sum(r.cases for r in results)
    failed = sum(len(r.failed) for r in results)
    files = sum(r.files for r in results)
    shapes = read_manifest(out_dir).get("promtool_shapes") or {}
    covering = f" covering {shapes['rules']} rules ({shapes['shapes']} shapes)" if "rules" in shapes else ""
    click.echo(f"{len(results)} alerts, {total} test cases{covering}, {failed} failed "
               f"({files} test files in {runs} promtool runs, {time.monotonic() - started:.1f}s)")
    if not rules_ok or failed or not results:
        sys.exit(EXIT_FINDINGS)
