"""Errors every script may raise; the CLI maps them to exit codes."""


class BadInput(Exception):
    """Any user-input problem that is not a SpecError: one line, exit 2."""
