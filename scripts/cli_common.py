"""What every command module shares: exit codes, the SPEC argument, error handling, spec loading.

Kept apart from ``cli.py`` so that command modules import this and ``cli.py`` imports them,
never the other way round.
"""
from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from modeldash.scripts.errors import BadInput
from modeldash.spec.fleet import FleetSpec, SpecError, bundled_example, load_spec

__all__ = [
    "EXIT_OK", "EXIT_FINDINGS", "EXIT_BAD_INPUT", "EXIT_CONFLICT", "EXIT_GRAFANA", "EXIT_PUSH",
    "DB_URL_ENV", "BadInput", "SPEC_ARG", "guarded", "read_spec",
]

EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT, EXIT_CONFLICT, EXIT_GRAFANA = 0, 1, 2, 3, 4
EXIT_PUSH = 5  # the jobs: scores computed but the push to the Pushgateway failed
DB_URL_ENV = "MODELDASH_DB_URL"  # the jobs' database URL (never a command-line value)


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


# A plain string: load_spec itself says "is a directory" / "file not found" in one line (exit 2).
SPEC_ARG = click.argument("spec", required=False, type=click.Path(path_type=str))
