"""A render in several processes (scripts/render_lanes.py) writes exactly what one process
writes: the same bytes, manifest, summary, lint problems and errors, and no half-written output
or stray process when a lane fails."""
from __future__ import annotations

import dataclasses
import os
import pickle
from pathlib import Path

import pytest

import modeldash.k8s.manifests as km
import modeldash.scripts.output_dashboards as output_dashboards
import modeldash.scripts.output_jobs as output_jobs
import modeldash.scripts.render as R
from modeldash.scripts.errors import BadInput
from modeldash.scripts.output_tree import OutputTree
import modeldash.scripts.render_lanes as render_lanes
from modeldash.scripts.render_lanes import Lane, LaneResult, can_fork
from modeldash.spec.fleet import load_spec_data
from test_fleet_scale import spread_fleet

pytestmark = pytest.mark.skipif(not can_fork(), reason="a render in lanes needs fork and 2 CPUs")


@pytest.fixture(scope="module")
def fleet():
    return load_spec_data(spread_fleet(24), "lanes.yaml")  # 24 models over 24 namespaces


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _both(spec, tmp_path, **kw):
    one = R.render_to(spec, tmp_path / "one", processes=1, **kw)
    two = R.render_to(spec, tmp_path / "two", processes=2, **kw)
    return one, two


def _no_leftovers(tmp_path: Path, *keep: str) -> None:
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(keep)  # no temp folder left


@pytest.fixture(autouse=True)
def forked(monkeypatch):
    """The pids of the lanes a test forks (``os.fork`` as render_lanes calls it, recorded)."""
    pids, real = [], os.fork

    def fork():
        pid = real()
        if pid:
            pids.append(pid)
        return pid

    monkeypatch.setattr(render_lanes.os, "fork", fork)
    return pids


def _no_children(forked) -> None:
    """Every lane was forked and reaped: none runs on, none is a zombie."""
    assert forked
    for pid in forked:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


@pytest.mark.parametrize("only", [None, frozenset({"dashboards", "prometheus-rules"}), frozenset({"k8s"}),
                                  frozenset({"provisioning", "jobs"}), frozenset({"alerts"})])
def test_lanes_write_the_same_bytes_summary_and_manifest(fleet, tmp_path, only, forked):
    one, two = _both(fleet, tmp_path, only=only)
    assert one.problems == two.problems == []
    assert _tree(tmp_path / "one") == _tree(tmp_path / "two")
    assert one.ctx.summary == two.ctx.summary and one.files == two.files
    assert one.warnings == two.warnings
    _no_children(forked)


def test_lanes_plan_the_same_deletions_on_a_second_render(fleet, tmp_path):
    smaller = load_spec_data({**spread_fleet(24), "models": spread_fleet(24)["models"][:20]}, "lanes.yaml")
    for name in ("one", "two"):
        R.render_to(fleet, tmp_path / name, processes=1)
    one, two = _both(smaller, tmp_path)
    assert _tree(tmp_path / "one") == _tree(tmp_path / "two")
    assert "k8s/deletions.txt" in _tree(tmp_path / "two")
    assert one.ctx.summary == two.ctx.summary
    assert any("no longer generated" in line for line in two.ctx.summary)


def test_lint_problems_of_a_side_lane_are_reported_and_nothing_is_written(fleet, tmp_path, monkeypatch, forked):
    real = output_dashboards.iter_dashboards

    def with_a_bad_one(spec):  # one more dashboard, with a uid lint rejects, built in the side lane
        last = None
        for last in real(spec):
            yield last
        yield dataclasses.replace(last, uid="bad-one", json={**last.json, "uid": "UPPER CASE uid"})

    monkeypatch.setattr(output_dashboards, "iter_dashboards", with_a_bad_one)
    one, two = _both(fleet, tmp_path)
    assert any("UPPER CASE" in str(p) for p in one.problems)
    assert [str(p) for p in one.problems] == [str(p) for p in two.problems]
    _no_leftovers(tmp_path)
    _no_children(forked)


def test_size_problems_from_both_lanes_give_the_one_process_error(fleet, tmp_path, monkeypatch, forked):
    monkeypatch.setattr(km, "CLIENT_SIDE_APPLY_LIMIT", 20_000)  # dashboards (side lane) and rule groups (here)
    errors = []
    for processes in (1, 2):
        with pytest.raises(BadInput) as caught:
            R.render_to(fleet, tmp_path / f"out{processes}", processes=processes)
        errors.append(str(caught.value))
    assert errors[0] == errors[1] and "k8s/dashboards/" in errors[0] and "more)" in errors[0]
    _no_leftovers(tmp_path)
    _no_children(forked)


def _fail(message):
    def fail(*_a, **_kw):
        raise BadInput(f"lanes.yaml: {message}")
    return fail


@pytest.mark.parametrize("failing, expected", [
    # what fails: the dashboards (a side lane), the k8s rules (here), the promtool tests and jobs (a side lane)
    (("dashboards", "rules"), "dashboards"),
    (("rules", "tests"), "rules"),
    (("dashboards", "tests"), "dashboards"),
    (("tests",), "tests"),
    (("jobs", "rules"), "rules"),  # the jobs come last, though in a side lane
])
def test_the_earliest_familys_error_wins_when_lanes_fail(fleet, tmp_path, monkeypatch, failing, expected, forked):
    import modeldash.alerts.build as A
    import modeldash.scripts.output_k8s as output_k8s

    targets = {"dashboards": (output_dashboards, "iter_dashboards"),
               "rules": (output_k8s.alerts, "prometheus_rule_manifests"),
               "tests": (A, "rule_shapes"),
               "jobs": (output_jobs, "job_manifests")}
    for name in failing:
        monkeypatch.setattr(*targets[name], _fail(f"{name} failed"))
    for processes in (1, 2):
        with pytest.raises(BadInput, match=f"{expected} failed"):
            R.render_to(fleet, tmp_path / "out", processes=processes)
    _no_leftovers(tmp_path)
    _no_children(forked)


def test_a_lane_that_dies_without_a_result_is_an_error_not_a_hang(fleet, tmp_path, monkeypatch, forked):
    def die(spec):
        os._exit(3)
        yield

    monkeypatch.setattr(output_dashboards, "iter_dashboards", die)
    with pytest.raises(RuntimeError, match="ended without a result"):
        R.render_to(fleet, tmp_path / "out", processes=2)
    _no_leftovers(tmp_path)
    _no_children(forked)


def test_an_exception_that_does_not_pickle_arrives_by_name(forked):
    class Local(Exception):  # a local class: pickle cannot find it by name
        pass

    def work():
        raise Local("cannot cross")

    with pytest.raises(RuntimeError, match="Local: cannot cross") as caught:
        Lane(work).result()
    assert any("render lane's process" in note for note in caught.value.__notes__)
    _no_children(forked)


def test_a_lane_result_crosses_the_pipe_whole():
    big = {f"dashboards/f/{i}.json": "a" * 64 for i in range(20_000)}  # far more than a pipe buffer

    def work():
        return LaneResult(sorted(big), big, lint=None)

    result = Lane(work).result()
    assert result.hashes == big and result.names == sorted(big)
    assert pickle.loads(pickle.dumps(result)).hashes == big


def test_a_shared_tree_writes_into_its_owners_folder_and_never_commits(tmp_path):
    with OutputTree(tmp_path / "out") as tree:
        tree.background = False
        shared = tree.share()
        with shared:
            shared.add("a/one.txt", "1")
            assert (shared._tmp / "a/one.txt").read_bytes() == b"1"  # written in add: no thread
            assert shared._thread is None
            hashes = shared.flush()
        with pytest.raises(RuntimeError, match="committed by its owner"):
            shared.commit()
        tree.absorb(shared.names, hashes)
        with pytest.raises(RuntimeError, match="both write a/one.txt"):
            tree.absorb(["a/one.txt"], {})
        tree.add("b.txt", "2")
        tree.commit()
    assert _tree(tmp_path / "out") == {"a/one.txt": b"1", "b.txt": b"2"}


def test_small_fleets_render_in_one_process_and_large_ones_in_lanes(example_spec, fleet):
    families = R.chosen_families(None)
    assert R._lanes(families, example_spec, None) is None  # 3 models: a fork would not pay
    assert R._lanes(families, fleet, 1) is None
    side, rest, after = R._lanes(families, fleet, 2)
    assert [fn.__name__ for fs, _ in side for fn, _ in fs] == [
        "dashboard_and_copy_files", "k8s_spec_files", "alert_test_files", "job_files"]  # two lanes
    assert [fn.__name__ for fn, _ in rest] == ["k8s_alerting_files", "alert_rule_files"]
    assert [fn.__name__ for fn, _ in after] == ["k8s_closing_files", "alert_summary"]
    assert R._lanes(R.chosen_families(frozenset({"dashboards"})), fleet, 2) is None  # nothing to share


def test_cli_processes_option_and_its_environment_variable(cli, write_spec, tmp_path):
    spec = write_spec(spread_fleet(12))
    one = cli("render", spec, "-o", tmp_path / "one", "--processes", "1")
    two = cli("render", spec, "-o", tmp_path / "two", env={"MODELDASH_PROCESSES": "2"})
    assert one.exit_code == two.exit_code == 0, (one.output, two.output)
    assert one.output.replace("/one/", "/two/") == two.output
    assert _tree(tmp_path / "one") == _tree(tmp_path / "two")
    bad = cli("render", spec, "-o", tmp_path / "three", "--processes", "3")
    assert bad.exit_code == 2 and "--processes" in bad.output
    assert not (tmp_path / "three").exists()
