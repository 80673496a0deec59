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

import functools
import sys
from pathlib import Path

import click

from modeldash import __version__
from modeldash.dashboards.spec import FleetSpec, SpecError, bundled_example, load_spec

EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT, EXIT_CONFLICT, EXIT_GRAFANA = 0, 1, 2, 3, 4


class BadInput(Exception):
    """Any user-input problem that is not a SpecError: one line, exit 2."""


def guarded(fn):
    """Turn known errors into one line on stderr and an exit code; never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (SpecError, BadInput) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)

    return wrapper


def read_spec(spec: str | None) -> tuple[FleetSpec, Path]:
    """The fleet spec named on the command line, or the bundled example fleet."""
    path = Path(spec) if spec else bundled_example()
    return load_spec(path), path


SPEC_ARG = click.argument("spec", required=False, type=click.Path(dir_okay=False, path_type=str))


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


from modeldash.scripts.cmd_sync import diff_cmd, sync_cmd  # noqa: E402  (registered last, avoids a cycle)

main.add_command(diff_cmd)
main.add_command(sync_cmd)
