"""Shared fixtures: the example fleet, raw spec data to mutate, and a CLI runner."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from modeldash.spec.fleet import bundled_example, load_spec

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "fleet.yaml"


@pytest.fixture(scope="session")
def example_spec():
    return load_spec(bundled_example())


@pytest.fixture(scope="session")
def rendered(tmp_path_factory):
    """The example fleet rendered once, read-only: a test that edits it copies it first."""
    from modeldash.scripts.cli import main

    out = tmp_path_factory.mktemp("rendered") / "out"
    result = CliRunner().invoke(main, ["render", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def example_data():
    """The example fleet as a plain dict, fresh for each test to mutate."""
    return copy.deepcopy(yaml.safe_load(EXAMPLE.read_text()))


@pytest.fixture
def write_spec(tmp_path):
    def write(data, name="fleet.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    return write


@pytest.fixture
def cli():
    """Invoke the real click CLI in-process; returns click's Result."""
    from modeldash.scripts.cli import main

    runner = CliRunner()

    def run(*args, **kwargs):
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=True, **kwargs)

    return run
