"""``modeldash test-rules OUT``: run the generated promtool unit tests and report per alert.

The tests ship with the rendered output (``OUT/prometheus/tests/<Alert>.yaml``, each loading
``rules/<Alert>.yaml``: its alert's rules and the recording rules they read), so anyone can
re-run them with promtool alone; this command checks ``OUT/prometheus/rules.yaml`` and runs
them all (in parallel, one promtool process per alert) and summarises them.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import click
import yaml

from modeldash.scripts.errors import BadInput
from modeldash.scripts.serialise import loads_yaml

_FAILED_NAME = re.compile(r"^\s+name: (.*),\s*$")


@dataclass
class AlertResult:
    alert: str
    cases: int
    failed: list[str]
    output: str

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


def run_test_file(promtool: str, path: Path) -> AlertResult:
    try:
        cases = len((loads_yaml(path.read_text(encoding="utf-8")) or {}).get("tests") or [])
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise BadInput(f"{path}: cannot read promtool test file ({exc.__class__.__name__})") from None
    proc = subprocess.run([promtool, "test", "rules", path.name], cwd=path.parent, capture_output=True, text=True)
    out = proc.stdout + proc.stderr
    failed = sorted({m.group(1) for line in out.splitlines() if (m := _FAILED_NAME.match(line))})
    if proc.returncode != 0 and not failed:
        failed = ["(promtool error: see output)"]
    return AlertResult(path.stem, cases, failed, out)


def run_all(out_dir: Path, promtool: str | None = None, jobs: int | None = None) -> tuple[bool, str, list[AlertResult]]:
    promtool = find_promtool(promtool)
    rules = out_dir / "prometheus" / "rules.yaml"
    tests_dir = out_dir / "prometheus" / "tests"
    if not rules.is_file() or not tests_dir.is_dir():
        raise BadInput(f"{out_dir}: no prometheus/rules.yaml and prometheus/tests/ (run modeldash render first)")
    ok, text = check_rules(promtool, rules)
    files = sorted(tests_dir.glob("*.yaml"))
    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 2) as pool:
        results = list(pool.map(lambda p: run_test_file(promtool, p), files))
    return ok, text, results


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
        rules_ok, rules_text, results = run_all(out_dir, promtool, jobs)
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
        click.echo(f"  {status}  {r.alert:<{width}}  {detail}")
        if not r.ok:
            for name in r.failed:
                click.echo(f"        - {name}")
            if verbose:
                click.echo(r.output, err=True)
    total = sum(r.cases for r in results)
    failed = sum(len(r.failed) for r in results)
    click.echo(f"{len(results)} alerts, {total} test cases, {failed} failed "
               f"({time.monotonic() - started:.1f}s)")
    if not rules_ok or failed or not results:
        sys.exit(EXIT_FINDINGS)
