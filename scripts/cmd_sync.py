"""``modeldash diff`` and ``modeldash sync``: click options, output and exit codes only.

The engine is ``modeldash.scripts.sync_engine``; the HTTP client ``modeldash.scripts.grafana_http``;
what Grafana should hold comes from ``modeldash.sync.desired_state``.
"""
from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path

import click

from modeldash.scripts.cli_common import (
    EXIT_CONFLICT, EXIT_FINDINGS, EXIT_GRAFANA, EXIT_OK, SPEC_ARG, BadInput, guarded, read_spec,
)


def connection_settings(grafana_url, token_file, org_id, ca_cert, insecure, timeout, retries, concurrency):
    """Credentials from the environment or a file only: a command line is visible to everyone."""
    from modeldash.scripts.grafana_http import Redactor, Settings

    if not grafana_url:
        raise BadInput("no Grafana URL: set GRAFANA_URL or pass --grafana-url")
    token = None
    if token_file:
        try:
            token = Path(token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise BadInput(f"{token_file}: cannot read the token file ({exc.__class__.__name__})") from None
        if not token:
            raise BadInput(f"{token_file}: the token file is empty")
    else:
        token = os.environ.get("GRAFANA_TOKEN") or None
    user, password = os.environ.get("GRAFANA_USER") or None, os.environ.get("GRAFANA_PASSWORD") or None
    if not token and not user:
        raise BadInput("no Grafana credentials: set GRAFANA_TOKEN, pass --token-file, or set GRAFANA_USER and GRAFANA_PASSWORD")
    if insecure and ca_cert:
        raise BadInput("--ca-cert and --insecure-skip-verify contradict each other; pass one")
    verify: bool | str = False if insecure else (str(ca_cert) if ca_cert else True)
    redactor = Redactor([token or "", password or ""])
    return Settings(url=grafana_url, token=token, user=user, password=password, org_id=org_id, verify=verify,
                    timeout=timeout, retries=retries, concurrency=concurrency, redactor=redactor)


def _progress_factory():
    if not sys.stderr.isatty():
        return None

    @contextlib.contextmanager
    def factory(total):
        with click.progressbar(length=total, label="syncing", file=sys.stderr) as bar:
            yield bar.update

    return factory


def _run(spec, grafana_url, token_file, org_id, ca_cert, insecure, timeout, retries, concurrency, output,
         prune, force, apply_changes, exit_code, debug):
    # Imported here: the HTTP stack costs every other modeldash command startup time.
    from modeldash.sync.desired_state import available_desired_state
    from modeldash.scripts.grafana_http import GrafanaError, GrafanaHTTP, setup_logging
    from modeldash.scripts.sync_engine import SyncInputError, run_sync
    from modeldash.scripts.sync_report import report_json, report_table

    if concurrency < 1 or concurrency > 64:
        raise BadInput("--concurrency must be between 1 and 64")
    if retries < 0 or retries > 10:
        raise BadInput("--retries must be between 0 and 10")
    if timeout <= 0:
        raise BadInput("--timeout must be positive")
    fleet, _path = read_spec(spec)
    settings = connection_settings(grafana_url, token_file, org_id, ca_cert, insecure, timeout, retries, concurrency)
    setup_logging(settings.redactor, debug)
    desired, skipped = available_desired_state(fleet, org_id=org_id)
    if skipped:
        click.echo(f"warning: this build cannot produce {', '.join(skipped)} objects yet; they are neither "
                   "written nor pruned", err=True)
    try:
        http = GrafanaHTTP(settings)
    except ValueError as exc:
        raise BadInput(f"--grafana-url: {exc}") from None
    try:
        report = run_sync(http, desired, fleet.name, apply_changes=apply_changes, prune=prune, force=force,
                          concurrency=concurrency, progress_factory=_progress_factory() if apply_changes else None,
                          skip_kinds=skipped)
    except SyncInputError as exc:
        raise BadInput(settings.redactor.redact(str(exc))) from None
    except GrafanaError as exc:
        click.echo(f"error: {settings.redactor.redact(str(exc))}", err=True)
        sys.exit(EXIT_GRAFANA)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:  # e.g. a response that is not what Grafana sends
        click.echo(f"error: unexpected answer from Grafana ({exc.__class__.__name__}: "
                   f"{settings.redactor.redact(str(exc))[:200]})", err=True)
        sys.exit(EXIT_GRAFANA)
    if output == "json":
        click.echo(settings.redactor.redact(json.dumps(report_json(report, fleet.name, http.display_url, skipped), indent=2, sort_keys=True)))
    else:
        click.echo(settings.redactor.redact(report_table(report, fleet.name, http.display_url, show_diffs=not apply_changes)))
    if report.failures:
        sys.exit(EXIT_GRAFANA)
    if report.conflicts:
        if output != "json":
            click.echo(f"{len(report.conflicts)} conflict(s): edited in Grafana; fix the spec or rerun with --force "
                       "to overwrite", err=True)
        sys.exit(EXIT_CONFLICT)
    if exit_code and report.pending:
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_OK)


def _common(fn):
    opts = [
        SPEC_ARG,
        click.option("--grafana-url", envvar="GRAFANA_URL", help="Grafana base URL (or GRAFANA_URL)."),
        click.option("--token-file", type=click.Path(dir_okay=False), help="File holding the service-account token "
                     "(else GRAFANA_TOKEN; basic auth from GRAFANA_USER/GRAFANA_PASSWORD)."),
        click.option("--token", "token_cli", hidden=True, help="Refused: tokens never go on a command line."),
        click.option("--org-id", type=int, default=None, help="Grafana organisation id (X-Grafana-Org-Id)."),
        click.option("--ca-cert", type=click.Path(exists=True, dir_okay=False), help="CA bundle to verify Grafana's TLS certificate."),
        click.option("--insecure-skip-verify", "insecure", is_flag=True, help="Do not verify TLS certificates (unsafe)."),
        click.option("--timeout", type=float, default=10.0, show_default=True, help="Seconds per HTTP request."),
        click.option("--retries", type=int, default=4, show_default=True, help="Retries per request on 429/5xx/timeouts."),
        click.option("--concurrency", type=int, default=8, show_default=True, help="Parallel requests."),
        click.option("--output", type=click.Choice(["table", "json"]), default="table", show_default=True),
        click.option("--prune", is_flag=True, help="Delete managed objects the spec no longer has."),
        click.option("--debug", is_flag=True, help="Debug logs on stderr (secrets redacted)."),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def _refuse_token(token_cli):
    if token_cli is not None:
        raise BadInput("--token is not accepted: a command line is visible to other users and CI logs; "
                       "use GRAFANA_TOKEN or --token-file")


@click.command("diff")
@_common
@click.option("--exit-code", is_flag=True, help="Exit 1 when something would change.")
@guarded
def diff_cmd(spec, grafana_url, token_file, token_cli, org_id, ca_cert, insecure, timeout, retries, concurrency,
             output, prune, debug, exit_code):
    """Show what `sync` would change in Grafana, object by object (writes nothing).

    \b
    Exit codes: 0 in sync, 1 changes pending (with --exit-code), 2 bad input,
    3 conflicts (managed objects edited in Grafana), 4 Grafana errors.
    """
    _refuse_token(token_cli)
    _run(spec, grafana_url, token_file, org_id, ca_cert, insecure, timeout, retries, concurrency, output,
         prune, False, False, exit_code, debug)


@click.command("sync")
@_common
@click.option("--dry-run", is_flag=True, help="Only show what would change (same as `diff`).")
@click.option("--force", is_flag=True, help="Overwrite managed objects edited in Grafana (conflicts).")
@guarded
def sync_cmd(spec, grafana_url, token_file, token_cli, org_id, ca_cert, insecure, timeout, retries, concurrency,
             output, prune, debug, dry_run, force):
    """Make Grafana match the spec: folders, contact points, policies, dashboards, rule groups.

    \b
    Only objects modeldash manages are written or (with --prune) deleted. A managed
    object edited in Grafana is a conflict: reported with its diff, kept, exit 3,
    unless --force. A sync with nothing to change makes no writes.
    Exit codes: 0 in sync, 2 bad input, 3 conflicts, 4 Grafana errors.
    """
    _refuse_token(token_cli)
    _run(spec, grafana_url, token_file, org_id, ca_cert, insecure, timeout, retries, concurrency, output,
         prune, force, not dry_run, False, debug)
