"""A dashboard's provisioning copy is a hard link to its file, not a second write (issue 10):
only the same bytes object right after it is linked, never a look-alike, a large file or a
file on a filesystem without hard links; and the dashboards' build leaves grafanalib's attrs
validators on for everyone else."""
from __future__ import annotations

import hashlib
import os

import attr
import pytest

from modeldash.dashboards.build import iter_dashboards
from modeldash.scripts import output_tree as OT
from modeldash.scripts import render as R
from modeldash.scripts.output_tree import OutputTree


def _inode(path):
    st = path.stat()
    return st.st_ino, st.st_nlink


def test_the_same_bytes_object_next_is_a_hard_link_with_the_same_hash(tmp_path):
    data = b'{"uid": "a"}\n'
    lookalike = bytes(bytearray(data))  # equal bytes, another object
    assert lookalike == data and lookalike is not data
    with OutputTree(tmp_path / "out") as tree:
        tree.add("dashboards/a.json", data)
        tree.add("provisioning/a.json", data)
        tree.add("other/a.json", lookalike)
        hashes = tree.flush()
        tree.commit()
    out = tmp_path / "out"
    first, copy, other = (out / "dashboards/a.json", out / "provisioning/a.json", out / "other/a.json")
    assert _inode(first) == _inode(copy) and _inode(first)[1] == 2
    assert _inode(other)[0] != _inode(first)[0] and _inode(other)[1] == 1
    assert tree.linked == 1
    digest = hashlib.sha256(data).hexdigest()
    assert hashes == {"dashboards/a.json": digest, "provisioning/a.json": digest, "other/a.json": digest}
    assert copy.read_bytes() == other.read_bytes() == data


def test_only_the_file_right_before_is_linked_to(tmp_path):
    a, b = b"a" * 10, b"b" * 10
    with OutputTree(tmp_path / "out") as tree:
        tree.background = False
        for rel, data in (("1", a), ("2", b), ("3", a)):  # a again, but not right after itself
            tree.add(rel, data)
        tree.commit()
    assert tree.linked == 0
    assert all(_inode(tmp_path / "out" / n)[1] == 1 for n in "123")


def test_a_large_file_is_not_kept_for_a_link(tmp_path, monkeypatch):
    monkeypatch.setattr(OT, "_LINK_MAX", 8)
    big = b"x" * 9
    with OutputTree(tmp_path / "out") as tree:
        tree.add("big1", big)
        tree.add("big2", big)
        tree.commit()
    assert tree.linked == 0 and (tmp_path / "out/big2").read_bytes() == big


def test_without_hard_links_the_copy_is_written(tmp_path, monkeypatch):
    def no_links(*_a, **_k):
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    data = b"same"
    with OutputTree(tmp_path / "out") as tree:
        tree.add("a", data)
        tree.add("b", data)
        hashes = tree.flush()
        tree.commit()
    assert tree.linked == 0 and hashes["a"] == hashes["b"]
    assert _inode(tmp_path / "out/b")[1] == 1 and (tmp_path / "out/b").read_bytes() == data


@pytest.mark.parametrize("processes", [1, 2])
def test_a_render_links_each_provisioning_copy_to_its_dashboard(example_spec, tmp_path, processes):
    done = R.render_to(example_spec, tmp_path / "out", processes=processes)  # 2: in lanes, even for 3 models
    assert done.problems == []
    out = tmp_path / "out"
    boards = sorted((out / "dashboards").rglob("*.json"))
    assert len(boards) == len(example_spec.models) + 3
    for board in boards:
        (copy,) = (out / "provisioning/dashboards").rglob(board.name)
        assert _inode(copy) == _inode(board) and _inode(board)[1] == 2
    # nothing else is linked: every other file has its own inode
    others = [p for p in out.rglob("*") if p.is_file() and "dashboards" not in p.relative_to(out).parts[:2]]
    assert others and all(p.stat().st_nlink == 1 for p in others)


def test_the_build_turns_attrs_validators_back_on_between_dashboards(example_spec):
    from grafanalib.core import TimeSeries

    boards = iter_dashboards(example_spec)
    next(boards)
    assert attr.validators.get_disabled() is False  # a caller's own objects are checked between
    with pytest.raises(TypeError):
        TimeSeries(title="t", targets="not a list")
    assert sum(1 for _ in boards) == len(example_spec.models) + 2
    assert attr.validators.get_disabled() is False
