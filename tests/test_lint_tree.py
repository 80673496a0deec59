"""`modeldash lint DIR` on damaged folders (issue 11): one line per problem, exit 1; no output folder: exit 2."""
from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from modeldash.scripts.cli import main
from modeldash.scripts.render_context import MANIFEST

BOARD = "dashboards/ml-models/md-fleet.json"


def _edit_board(fn):
    def edit(out):
        path = out / BOARD
        board = json.loads(path.read_text())
        path.write_text(json.dumps(fn(board)))
    return edit


def _set_grid_left(board):
    board["panels"][0]["gridPos"] = "left"
    return board


def _bad_types(board):
    board["panels"][1]["targets"] = [{"expr": 5, "datasource": {"uid": [1]}}]
    board["panels"][0]["fieldConfig"] = "x"
    board["panels"][2]["type"] = [1]
    board["templating"] = "x"
    return board


DAMAGE = [
    ("json-list", lambda out: (out / BOARD).write_text("[]"), BOARD, "must be a JSON object"),
    ("gridpos-string", _edit_board(_set_grid_left), "md-fleet", "schema: panels/0"),
    ("wrong-types", _edit_board(_bad_types), "md-fleet", "schema"),
    ("binary", lambda out: (out / BOARD).write_bytes(bytes(range(256))), BOARD, "not UTF-8"),
    ("deleted", lambda out: (out / BOARD).unlink(), BOARD, "missing"),
    ("foreign", lambda out: (out / "dashboards" / "ml-models" / "extra.json").write_text("{}"),
     "dashboards/ml-models/extra.json", "foreign file"),
    ("edited", lambda out: (out / "prometheus" / "rules.yaml").write_text(
        (out / "prometheus" / "rules.yaml").read_text() + "\n# hand edit\n"), "prometheus/rules.yaml", "changed since render"),
]


@pytest.mark.parametrize("damage,where,words", [d[1:] for d in DAMAGE], ids=[d[0] for d in DAMAGE])
def test_damaged_folder_is_a_finding(rendered, tmp_path, damage, where, words):
    out = tmp_path / "out"
    shutil.copytree(rendered, out)
    damage(out)
    result = CliRunner().invoke(main, ["lint", str(out)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    assert result.exit_code == 1, result.output
    assert any(line.startswith(f"{where}") and words in line for line in result.stdout.splitlines()), result.stdout
    assert "no problems" not in result.output


def test_intact_folder_has_no_problems(rendered):
    result = CliRunner().invoke(main, ["lint", str(rendered)])
    assert result.exit_code == 0, result.output
    assert "no problems" in result.stdout


def test_manifest_lists_every_file_with_its_hash(rendered):
    import hashlib

    files = json.loads((rendered / MANIFEST).read_text())["files"]
    on_disk = {p.relative_to(rendered).as_posix(): p for p in rendered.rglob("*") if p.is_file()}
    assert set(files) == set(on_disk) - {MANIFEST}
    assert all(hashlib.sha256(on_disk[rel].read_bytes()).hexdigest() == h for rel, h in files.items())


@pytest.mark.parametrize("content", [None, "not json", '{"generator": "other"}'], ids=["none", "not-json", "foreign"])
def test_folder_without_modeldash_output_is_bad_input(tmp_path, content):
    (tmp_path / "readme.txt").write_text("hello")
    if content is not None:
        (tmp_path / MANIFEST).write_text(content)
    result = CliRunner().invoke(main, ["lint", str(tmp_path)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {tmp_path}"), result.stderr


@pytest.mark.parametrize("url", ["not a url", "ftp://prometheus:9090", "http://"])
def test_bad_prometheus_url_is_one_line(rendered, url):
    result = CliRunner().invoke(main, ["lint", str(rendered), "--prometheus", url])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --prometheus: "), result.stderr
