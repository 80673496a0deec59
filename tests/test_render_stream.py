"""The streaming render (``render.render_to``): the same files as the in-memory build, each
linted as it is written, the old tree kept whole when anything fails, built values dropped."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from modeldash.scripts import render as R
from modeldash.scripts.cli import main
from modeldash.scripts.lint_output import lint_files
from modeldash.scripts.output_dashboards import dashboard_files
from modeldash.spec.fleet import load_spec_data

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from fleet import spread_fleet_data  # noqa: E402


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("fleet", ["example", "spread"])
def test_streamed_tree_is_byte_identical_to_the_in_memory_build(fleet, example_data, tmp_path):
    data = example_data if fleet == "example" else spread_fleet_data(12, namespaces=5)
    spec = load_spec_data(data, "fleet.yaml")
    files, _ctx = R.build_files(spec, tmp_path / "mem")
    R.write_tree(files, tmp_path / "mem")
    done = R.render_to(spec, tmp_path / "stream")
    assert done.problems == [] and done.files == len(files)
    assert _tree(tmp_path / "stream") == _tree(tmp_path / "mem")


def test_a_lint_problem_keeps_the_old_tree_and_leaves_no_temp_folder(example_spec, tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert R.render_to(example_spec, out).problems == []
    before = _tree(out)

    def broken(ctx):  # a generator bug: a dashboard whose panel query does not parse
        for rel, text in dashboard_files(ctx):
            ctx.parsed.pop(rel, None)  # lint reads the text
            yield rel, text.replace(b'"expr": "', b'"expr": "sum((', 1)

    monkeypatch.setattr(R, "_READS", {**R._READS, broken: set()})
    monkeypatch.setattr(R, "_outputs", lambda: [(broken, frozenset({"dashboards"}))])
    done = R.render_to(example_spec, out)
    assert done.problems and all("does not parse" in str(p) for p in done.problems)
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_cli_render_exits_1_on_lint_problems_and_writes_nothing(example_spec, tmp_path, monkeypatch):
    def broken(ctx):
        yield "dashboards/x/broken.json", '{"uid": "UPPER CASE uid", "panels": []}\n'

    monkeypatch.setattr(R, "_READS", {**R._READS, broken: set()})
    monkeypatch.setattr(R, "_outputs", lambda: [(broken, frozenset({"dashboards"}))])
    result = CliRunner().invoke(main, ["render", "-o", str(tmp_path / "out")])
    assert result.exit_code == 1, result.output
    assert "lint problem(s); nothing written" in result.output
    assert not (tmp_path / "out").exists() and list(tmp_path.iterdir()) == []


def test_built_values_are_dropped_after_their_last_reader(example_spec, tmp_path, monkeypatch):
    seen = {}
    real = R._outputs()

    def spy(fn):
        def family(ctx):
            seen[fn.__name__] = {k for k in ("dashboards", "grafana_alerting", "prometheus_rules",
                                             "recordings") if k in ctx.__dict__}
            produced = fn(ctx)
            yield from produced.items() if isinstance(produced, dict) else produced
        return family

    wrapped = [(spy(fn), names) for fn, names in real]
    spies = {fn: w for (w, _), (fn, _) in zip(wrapped, real)}
    monkeypatch.setattr(R, "_READS", {w: R._READS[fn] for fn, w in spies.items()})
    monkeypatch.setattr(R, "_TOGETHER", tuple((spies[t], tuple(spies[p] for p in ps)) for t, ps in R._TOGETHER))
    monkeypatch.setattr(R, "_outputs", lambda: wrapped)
    assert R.render_to(example_spec, tmp_path / "out").problems == []
    # the dashboards and their k8s copies are written together (no text is kept for later);
    # k8s builds the alerting documents; after the alert rule files nothing is held but the
    # recording rules (the promtool tests read only those and the catalogue)
    assert "dashboard_files" not in seen and "k8s_dashboard_files" not in seen
    assert seen["dashboard_and_copy_files"] == set()
    assert seen["k8s_spec_files"] == set()
    assert seen["k8s_alerting_files"] == set()
    assert seen["k8s_closing_files"] == {"grafana_alerting", "prometheus_rules", "recordings"}
    assert seen["alert_rule_files"] == {"grafana_alerting", "prometheus_rules", "recordings"}
    # the recording rules rules.yaml was made of wait for the promtool tests' index
    assert seen["alert_test_files"] == {"recordings"}
    assert seen["alert_summary"] == set()
    assert seen["job_files"] == set()


@pytest.mark.parametrize("where, secret", [
    ("alerts/grafana-alerting.yaml", "https://hooks.slack.com/services/T000/B000/XXXX"),
    ("alerts/grafana-alerting.yaml", "https://user:hunter2@example.com/hook"),
])
def test_lint_finds_an_inline_secret_in_a_large_rule_file(example_spec, tmp_path, where, secret):
    files, ctx = R.build_files(example_spec, tmp_path / "out")
    doc = ctx.parsed[where]
    doc["groups"][-1]["rules"][-1]["annotations"]["note"] = secret
    problems = [str(p) for p in lint_files(files, example_spec, ctx.parsed)]
    assert any("inline secret" in p for p in problems), problems


def test_lint_finds_an_inline_password_key(example_spec, tmp_path):
    files, ctx = R.build_files(example_spec, tmp_path / "out")
    am = yaml.safe_load(files["alertmanager/alertmanager.yaml"])
    am["receivers"][0]["webhook_configs"] = [{"url": "http://x", "http_config": {"basic_auth": {"password": "p4ss"}}}]
    files["alertmanager/alertmanager.yaml"] = yaml.safe_dump(am)
    ctx.parsed.pop("alertmanager/alertmanager.yaml", None)
    problems = [str(p) for p in lint_files(files, example_spec, ctx.parsed)]
    assert any("password: inline secret" in p for p in problems), problems


def test_a_rule_the_grafana_schema_refuses_is_reported_through_its_group(example_spec):
    import json

    from modeldash.alerts import build as A
    from modeldash.scripts.lint_alerts import lint_alerts

    groups = A.grafana_rule_groups(example_spec)
    groups[0]["rules"][0]["noDataState"] = 7  # a string in Grafana's model
    problems = lint_alerts({"alerts/grafana-rule-groups.json": json.dumps(groups)})
    assert any("rules/0/noDataState" in p for p in problems), problems
