"""promtool test files split per chunk of an alert's models (alerts/test_shards.py): bounded
whatever the fleet, stable when a model is added, and still passing on the real promtool.
(~30 s: four 1,000-model suites, one promtool run of a 4-model fleet)"""
from __future__ import annotations

import copy
import re
import shutil
from types import SimpleNamespace

import orjson
import pytest
from click.testing import CliRunner

from modeldash.alerts import build as A
from modeldash.alerts import test_shards
from modeldash.spec.fleet import load_spec_data
from test_fleet_scale import spread_fleet

PROMTOOL = shutil.which("promtool")


def _titles(doc) -> set[str]:
    return {t for case in doc["tests"] for t in case["name"].split(" [", 1)[1][:-1].split("; ")}


def test_chunks_are_bounded_and_a_new_unit_changes_at_most_two():
    def defs(units):
        return [SimpleNamespace(namespace=ns, model=m, i=i) for ns, m, n in units for i in range(n)]

    units = [(f"ns-{i % 7}", f"m{i:04d}", 1 + i % 9) for i in range(1000)]
    before = test_shards.chunks(defs(units))
    assert before[0][0] == "" and all(s.startswith(".ns-") for s, _ in before[1:])
    assert all(1 <= len(members) <= test_shards.MAX for _s, members in before)
    assert sum(len(m) for _s, m in before) == len(defs(units))
    assert len(defs(units)) / len(before) >= test_shards.TARGET / 3  # chunks, not units
    after = test_shards.chunks(defs(units + [("ns-3", "m0500x", 4)]))
    old = {s: [(d.model, d.i) for d in m] for s, m in before}
    new = {s: [(d.model, d.i) for d in m] for s, m in after}
    assert 1 <= len({s for s in old.keys() | new.keys() if old.get(s) != new.get(s)}) <= 2
    # a model over MAX definitions is cut into pieces named after it
    wide = test_shards.chunks(defs([("ns", "a", 3), ("ns", "b", 2 * test_shards.MAX + 1)]))
    assert [(s, len(m)) for s, m in wide] == [("", 3), (".ns.b", test_shards.MAX), (".ns.b.2", test_shards.MAX),
                                              (".ns.b.3", 1)]


def test_test_files_stay_bounded_at_1000_models():
    spec = load_spec_data(spread_fleet(1000), "big.yaml")
    defs = A.alert_definitions(spec)
    shapes = A.rule_shapes(spec, defs)
    tests, rules = A.promtool_suite(spec, defs, shapes)
    assert set(tests) == set(rules) and len(tests) < 60  # a shape's representative, not every model
    assert max(len(orjson.dumps(d)) for d in tests.values()) < 1_000_000
    assert max(len(orjson.dumps(d)) for d in rules.values()) < 600_000
    tested = {s.representative.title for s in shapes if s.representative.scenario is not None}
    # every definition with cases is tested or shares the shape of a tested one
    covered = {id(d) for s in shapes if s.representative.scenario is not None for d in s.members}
    assert all(id(d) in covered for d in defs if d.scenario is not None)
    assert A.shape_summary(shapes)["rules"] > 15 * len(tested)
    seen: dict[str, str] = {}
    for stem, doc in tests.items():
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.-]*", stem), stem  # a safe file name
        assert doc["rule_files"] == [f"rules/{stem}.yaml"]
        alerts = [r for g in rules[stem]["groups"] for r in g["rules"] if "alert" in r]
        assert {r["alert"] for r in alerts} == {stem.split(".")[0].split("-every-")[0]}
        assert 1 <= len(alerts) <= test_shards.MAX
        models = {r["labels"].get("model") for r in alerts}
        recorded = {r["labels"].get("model") for g in rules[stem]["groups"] for r in g["rules"] if "record" in r}
        assert recorded <= models, stem  # the chunk's models' recordings only
        chunk = stem.split(".", 1)[1] if "." in stem else ""
        for title in _titles(doc):  # every definition's cases live in one chunk
            assert seen.setdefault(title, chunk) == chunk, title
    assert set(seen) == tested
    assert [s for s in tests if s.startswith("HighNodeCPUUsage")] == ["HighNodeCPUUsage"]


def test_adding_a_model_changes_no_test_file_unless_it_brings_a_new_shape():
    def suite(data):
        tests, rules = A.promtool_suite(load_spec_data(data, "f.yaml"))
        return {stem: orjson.dumps([doc, rules[stem]]) for stem, doc in tests.items()}

    data = spread_fleet(1000)
    before = suite(data)
    clone = {**copy.deepcopy(data["models"][1]), "name": "m1000-clone"}  # model 1001, an existing shape
    assert suite({**data, "models": data["models"] + [clone]}) == before
    # a model of its own latency threshold: only the latency alerts' files change, by its test
    own = {**clone, "thresholds": {"latency_p95": {"warning": "123ms"}}}
    after = suite({**data, "models": data["models"] + [own]})
    changed = {s for s in before.keys() | after.keys() if before.get(s) != after.get(s)}
    assert changed and {s.split(".")[0] for s in changed} == {"ModelLatencyP95High"}, sorted(changed)
    assert all(b"m1000-clone" in after[s] for s in changed)


@pytest.mark.skipif(PROMTOOL is None, reason="promtool missing")  # `make test` installs it
def test_sharded_suite_passes_promtool_and_reports_per_alert(tmp_path, monkeypatch, write_spec):
    """Four models in four namespaces, cut into chunks of at most 6 definitions: the chunked files
    pass the real promtool, and the report sums each alert's files."""
    from modeldash.scripts.cli import main

    monkeypatch.setattr(test_shards, "TARGET", 3)
    monkeypatch.setattr(test_shards, "MAX", 6)
    data = spread_fleet(4, features=2)
    spec_path = write_spec(data)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["render", str(spec_path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    tests = A.promtool_tests(load_spec_data(data, "f.yaml"))
    assert any("." in stem for stem in tests)
    assert {p.stem for p in (out / "prometheus" / "tests").glob("*.yaml")} == set(tests)
    result = CliRunner().invoke(main, ["test-rules", str(out)])
    assert result.exit_code == 0, result.output
    alerts = {stem.split(".")[0] for stem in tests}
    assert f"{len(alerts)} alerts, {A.count_cases(tests)} test cases covering " in result.output
    assert f", 0 failed ({len(tests)} test files" in result.output
    drift = [s for s in tests if s.split(".")[0] == "ModelDriftHigh"]
    assert len(drift) > 1 and f"in {len(drift)} files" in result.output
