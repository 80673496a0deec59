"""The ``modeldash`` command line: click commands and nothing else.

Each command parses its options, calls one function in ``modeldash.scripts`` and maps
errors to the documented exit codes:

\b
  0  success / in sync
  1  lint problems found, or changes pending (diff --exit-code)
  2  bad input (spec, options, files)
  3  sync conflicts (a managed object was edited in Grafana)
  4  Grafana errors (unreachable, auth, failed writes)
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from modeldash import __version__
from modeldash.scripts import cmd_jobs
from modeldash.scripts.cli_common import EXIT_FINDINGS, SPEC_ARG, guarded, read_spec
from modeldash.scripts.cmd_live import demo
from modeldash.scripts.cmd_preview import preview_cmd
from modeldash.scripts.cmd_sync import diff_cmd, sync_cmd
from modeldash.scripts.cmd_test_rules import test_rules


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="modeldash")
def main():
    """ML-model monitoring as code: Grafana dashboards, alerts and provisioning from one fleet spec.

    \b
    Examples:
      modeldash render                      # the bundled example fleet into ./out
      modeldash render fleet.yaml -o out    # your fleet
      modeldash lint out                    # check rendered output again

    \b
    Exit codes: 0 ok, 1 findings or pending changes, 2 bad input,
    3 sync conflicts, 4 Grafana errors.
    """


@main.command()
@SPEC_ARG
@click.option("-o", "--out", "out_dir", default="out", show_default=True, type=click.Path(file_okay=False),
              help="Output folder; replaced as a whole, atomically.")
@click.option("--no-lint", is_flag=True, help="Write even if lint finds problems (not recommended).")
@click.option("--only", multiple=True, metavar="OUTPUTS",
              help="Write only these outputs (comma-separated or repeated): dashboards, alerts, "
                   "prometheus-rules, k8s, provisioning, jobs. Default: the spec's `outputs`, else all.")
@click.option("--processes", type=click.IntRange(1, 2), default=None, envvar="MODELDASH_PROCESSES",
              show_envvar=True,
              help="1: render in this process only; 2: build the dashboards and the promtool tests in "
                   "forked processes beside the rules. Default: 2 from 100 models on a machine with 2 CPUs.")
@guarded
def render(spec, out_dir, no_lint, only, processes):
    """Render dashboards, alerts and provisioning files from SPEC (default: the bundled example fleet).

    \b
    Examples:
      modeldash render
      modeldash render fleet.yaml -o out
      modeldash render fleet.yaml --only dashboards,alerts   # what `modeldash sync` needs
      MODELDASH_PROCESSES=1 modeldash render fleet.yaml      # one process (same bytes)
    """
    from modeldash.scripts.render import chosen_outputs, render_to

    fleet, path = read_spec(spec)
    done = render_to(fleet, Path(out_dir), chosen_outputs(fleet, list(only)), lint=not no_lint, processes=processes)
    if done.problems:
        for p in done.problems:
            click.echo(f"lint: {p}", err=True)
        click.echo(f"error: {len(done.problems)} lint problem(s); nothing written to {out_dir}", err=True)
        sys.exit(EXIT_FINDINGS)
    for line in done.ctx.summary:
        click.echo(line)
    for line in done.warnings:
        click.echo(line, err=True)
    click.echo(f"rendered {spec or 'the bundled example fleet'} -> {out_dir}/ ({done.files} files{_changes(done.changes)})")


def _changes(changes: tuple[int, int, int] | None) -> str:
    """``: 2 new, 5 changed, 1 removed`` against the previous render (unchanged files are kept)."""
    if changes is None:
        return ""
    parts = [f"{n} {what}" for n, what in zip(changes, ("new", "changed", "removed")) if n]
    return ": " + (", ".join(parts) if parts else "none changed")


@main.command()
@click.argument("target", required=False, type=click.Path(path_type=str))
@click.option("--prometheus", "prometheus_url", metavar="URL", default=None,
              help="Also run every panel query against this Prometheus; report panels without data.")
@click.option("--rate-interval", default="1m", show_default=True,
              help="What $__rate_interval becomes for --prometheus (4x the scrape interval).")
@guarded
def lint(target, prometheus_url, rate_interval):
    """Check a spec (rendered in memory) or a rendered output folder.

    Checks every dashboard against Grafana's official JSON schemas (dashboard and panel
    plugins), unique panel ids, no overlapping panels, datasource references, that every
    PromQL expression parses, and uid rules. Exits 1 and lists every problem when any is found.

    \b
    Examples:
      modeldash lint                 # the bundled example fleet
      modeldash lint fleet.yaml
      modeldash lint out/
      modeldash lint fleet.yaml --prometheus http://localhost:9090   # live: every panel has data
    """
    from modeldash.scripts.lint_output import lint_files
    from modeldash.scripts.lint_tree import read_rendered_tree
    from modeldash.scripts.render import build_files

    if prometheus_url:
        from modeldash.scripts.cmd_live import check_reachable

        check_reachable(prometheus_url)
    tree_problems = []
    parsed = None
    if target and Path(target).is_dir():
        (files, tree_problems), fleet = read_rendered_tree(Path(target)), None
    else:
        fleet, _ = read_spec(target)
        files, ctx = build_files(fleet, Path("out"))
        parsed = ctx.parsed  # lint reuses what render built instead of parsing it again
    problems = sorted(tree_problems + lint_files(files, fleet, parsed))
    for p in problems:
        click.echo(str(p))
    _warn(files)
    live = 0
    if prometheus_url:
        from modeldash.scripts.cmd_live import dashboards_from_files, run_live_lint

        live = run_live_lint(dashboards_from_files(files), prometheus_url, rate_interval)
    if problems:
        click.echo(f"{len(problems)} problem(s)", err=True)
        sys.exit(max(EXIT_FINDINGS, live))
    if live:
        sys.exit(live)
    click.echo(f"lint: {len(files)} files, no problems")


def _warn(files) -> None:
    """Warnings and notes (``scripts/lint_warnings.py``): printed, never a failure."""
    from modeldash.scripts.lint_warnings import lint_warnings

    for line in lint_warnings(files):
        click.echo(line, err=True)


# Commands defined in their own modules.
main.add_command(test_rules)
main.add_command(cmd_jobs.baseline_cmd)
main.add_command(cmd_jobs.drift_job_cmd)
main.add_command(cmd_jobs.quality_job_cmd)
main.add_command(diff_cmd)
main.add_command(sync_cmd)
main.add_command(demo)
main.add_command(preview_cmd)
