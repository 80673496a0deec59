"""A re-render keeps the previous output's unchanged files (issue 10): a file whose bytes equal
the same path's file in the folder being replaced is a hard link to it (same inode, same
mtime), never when the bytes, the mode, the owner or the path through the folder differ, and
never at the cost of touching the old file; a lint failure leaves the old folder as it was."""
from __future__ import annotations

import hashlib
import os

import pytest

from modeldash.scripts import render as R
from modeldash.scripts.output_tree import OutputTree


def _write(out, files, **kw):
    with OutputTree(out) as tree:
        for key, value in kw.items():
            setattr(tree, key, value)
        for rel, data in files.items():
            tree.add(rel, data)
        hashes = tree.flush()
        tree.commit()
    return tree, hashes


def _ino(path):
    return path.stat(follow_symlinks=False).st_ino


@pytest.mark.parametrize("background", [True, False])
def test_unchanged_files_are_the_previous_files_and_changed_ones_are_new(tmp_path, background):
    out = tmp_path / "out"
    first = {"a/same.json": b"same\n", "a/changes.json": b"v1\n", "b/gone.json": b"x\n", "big.yaml": b"y" * (3 << 20)}
    _write(out, first)
    before = {rel: _ino(out / rel) for rel in first}
    old_changes = os.stat(out / "a/changes.json")
    os.utime(out / "a/same.json", ns=(1_000_000_000, 1_000_000_000))  # an old mtime, to see it kept

    second = {"a/same.json": b"same\n", "a/changes.json": b"v2\n", "c/new.json": b"new\n", "big.yaml": b"y" * (3 << 20)}
    tree, hashes = _write(out, second, background=background)

    assert tree.reused == 2
    assert _ino(out / "a/same.json") == before["a/same.json"] and _ino(out / "big.yaml") == before["big.yaml"]
    assert (out / "a/same.json").stat().st_mtime_ns == 1_000_000_000
    assert _ino(out / "a/changes.json") != old_changes.st_ino
    assert not (out / "b").exists()
    assert {rel: (out / rel).read_bytes() for rel in second} == second
    assert hashes == {rel: hashlib.sha256(data).hexdigest() for rel, data in second.items()}
    assert all((out / rel).stat().st_nlink == 1 for rel in second)  # the old names are gone
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temp or old folder left


def test_the_same_size_with_other_bytes_is_written_anew(tmp_path):
    out = tmp_path / "out"
    _write(out, {"f": b"a" * 100 + b"1"})
    inode = _ino(out / "f")
    tree, _ = _write(out, {"f": b"a" * 100 + b"2"})
    assert tree.reused == 0 and _ino(out / "f") != inode and (out / "f").read_bytes().endswith(b"2")


def test_a_file_the_user_changed_mode_or_replaced_by_a_symlink_is_not_taken(tmp_path):
    out, outside = tmp_path / "out", tmp_path / "outside"
    outside.mkdir()
    (outside / "f").write_bytes(b"same")
    (outside / "d").mkdir()
    (outside / "d" / "g").write_bytes(b"same")
    files = {"mode": b"same", "link": bytes(bytearray(b"same")), "dirlink/g": bytes(bytearray(b"same"))}
    _write(out, files)  # three objects: never linked to the file before them
    os.chmod(out / "mode", 0o600)
    (out / "link").unlink()
    (out / "link").symlink_to(outside / "f")
    (out / "dirlink" / "g").unlink()
    (out / "dirlink").rmdir()
    (out / "dirlink").symlink_to(outside / "d")

    tree, _ = _write(out, files)

    assert tree.reused == 0
    for rel in ("mode", "link", "dirlink/g"):
        path = out / rel
        assert not path.is_symlink() and path.read_bytes() == b"same" and path.stat().st_nlink == 1
        assert oct(path.stat().st_mode & 0o777) == oct(0o666 & ~_current_umask())
    assert (outside / "f").stat().st_nlink == 1 and (outside / "d" / "g").stat().st_nlink == 1


def test_without_hard_links_every_file_is_written(tmp_path, monkeypatch):
    out = tmp_path / "out"
    _write(out, {"f": b"same"})

    def no_links(*_a, **_k):
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    tree, _ = _write(out, {"f": b"same"})
    assert tree.reused == 0 and (out / "f").read_bytes() == b"same"


def test_a_failed_render_leaves_the_old_files_untouched(tmp_path):
    out = tmp_path / "out"
    _write(out, {"keep": b"old", "f": b"same"})
    inode = _ino(out / "f")
    with pytest.raises(RuntimeError):
        with OutputTree(out) as tree:
            tree.add("f", b"same")  # linked to the old file
            tree.add("keep", b"new")
            tree.flush()
            raise RuntimeError("lint found a problem")
    assert (out / "keep").read_bytes() == b"old" and (out / "f").read_bytes() == b"same"
    assert _ino(out / "f") == inode and (out / "f").stat().st_nlink == 1
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


@pytest.mark.parametrize("processes", [1, 2])
def test_a_second_render_of_the_same_spec_keeps_every_file(example_spec, tmp_path, processes):
    out = tmp_path / "out"
    R.render_to(example_spec, out, processes=processes)
    before = {p.relative_to(out): (p.stat().st_ino, p.read_bytes()) for p in out.rglob("*") if p.is_file()}
    done = R.render_to(example_spec, out, processes=processes)
    after = {p.relative_to(out): (p.stat().st_ino, p.read_bytes()) for p in out.rglob("*") if p.is_file()}
    assert done.problems == [] and after == before  # every file: the same inode and bytes
    assert done.changes == (0, 0, 0)


def test_the_render_reports_what_changed(example_data, tmp_path):
    from modeldash.spec.fleet import load_spec_data

    out = tmp_path / "out"
    first = R.render_to(load_spec_data(example_data, "fleet.yaml"), out)
    assert first.changes is None  # nothing to compare with
    data = {**example_data, "models": [m for m in example_data["models"] if m["name"] != "churn-classifier"]}
    done = R.render_to(load_spec_data(data, "fleet.yaml"), out)
    new, changed, removed = done.changes
    assert new == 1 and (out / "k8s/deletions.txt").is_file()  # the plan to delete its objects
    assert changed > 0 and removed > 0
    assert done.files < first.files


def _current_umask() -> int:
    mask = os.umask(0o22)
    os.umask(mask)
    return mask


def test_the_cli_says_what_changed(cli, tmp_path, example_data, write_spec):
    out = tmp_path / "out"
    first = cli("render", "-o", out)
    assert first.exit_code == 0 and first.output.rstrip().endswith(" files)"), first.output
    again = cli("render", "-o", out)
    assert again.exit_code == 0 and again.output.rstrip().endswith(" files: none changed)"), again.output
    example_data["models"][0].setdefault("thresholds", {})["latency_p95"] = {"warning": "300ms", "critical": "900ms"}
    changed = cli("render", write_spec(example_data), "-o", out)
    assert changed.exit_code == 0, changed.output
    last = changed.output.rstrip().splitlines()[-1]
    assert " changed)" in last and "new" not in last and "removed" not in last, last
