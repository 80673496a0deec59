"""One promtool test per rule shape (alerts/prometheus_rules.rule_shapes): rules equal up to the
model's identity strings are tested once, a real difference (threshold, backend, a name that
also occurs as a literal) keeps its own test, and the representatives pass the real promtool.
(~6 s: a few small fleets, one promtool run)"""
from __future__ import annotations

import copy
import re
import shutil

import orjson
import pytest
from hypothesis import given, settings, strategies as st
from click.testing import CliRunner

from modeldash.alerts import build as A
from modeldash.alerts.prometheus_rules import (_join, _split, _substitute, recording_index,
                                               prometheus_alert_rule)
from modeldash.spec.fleet import load_spec_data
from test_fleet_scale import spread_fleet

PROMTOOL = shutil.which("promtool")


def _fleet(models: list[tuple[str, str, dict]]) -> dict:
    """The spread fleet's first model, copied under each (name, namespace, overrides)."""
    data = spread_fleet(1, features=2)
    base = data["models"][0]
    data["models"] = [{**copy.deepcopy(base), "name": name, "namespace": ns, **extra} for name, ns, extra in models]
    return data


def _shape_of(shapes, alert: str, model: str):
    return next(s for s in shapes for d in s.members if d.name == alert and d.model == model)


def _titles(tests: dict, alert: str) -> set[str]:
    return {t for stem, doc in tests.items() if stem.split(".")[0] == alert
            for case in doc["tests"] for t in case["name"].split(" [", 1)[1][:-1].split("; ")}


def _swapped(text: str, pairs: dict[str, str]) -> str:
    pattern = "|".join(re.escape(k) for k in sorted(pairs, key=len, reverse=True))
    return re.sub(pattern, lambda m: pairs[m.group(0)], text)


def test_same_template_is_one_shape_and_a_real_difference_is_another():
    data = _fleet([("alpha", "ns-a", {}), ("beta", "ns-b", {}),
                   ("gamma", "ns-a", {"thresholds": {"latency_p95": {"warning": "200ms"}}}),
                   ("delta", "ns-b", {"backend": "kserve"})])
    assert data["models"][0]["backend"] != "kserve"
    spec = load_spec_data(data, "f.yaml")
    defs = A.alert_definitions(spec)
    shapes = A.rule_shapes(spec, defs)
    tests = A.promtool_tests(spec, defs)
    latency = _shape_of(shapes, "ModelLatencyP95High", "alpha")
    assert [d.model for d in latency.members] == ["alpha", "beta"] and latency.representative.model == "alpha"
    assert _shape_of(shapes, "ModelLatencyP95High", "gamma").members[0].model == "gamma"  # its own threshold
    assert len(_shape_of(shapes, "ModelLatencyP95High", "gamma").members) == 1
    assert len(_shape_of(shapes, "ModelLatencyP95High", "delta").members) == 1  # another backend's queries
    # gamma's other alerts are alpha's template: one shape
    assert {d.model for d in _shape_of(shapes, "ModelErrorRateHigh", "alpha").members} >= {"alpha", "beta", "gamma"}
    titles = _titles(tests, "ModelLatencyP95High")
    assert {"ModelLatencyP95High (alpha)", "ModelLatencyP95High (gamma)", "ModelLatencyP95High (delta)"} <= titles
    assert not any("beta" in t for t in titles)  # tested once, through alpha
    assert not any("beta" in orjson.dumps(doc).decode() for doc in tests.values())
    summary = A.shape_summary(shapes)
    assert summary["rules"] == sum(len(s.members) for s in shapes if s.representative.scenario is not None)
    assert summary["shapes"] < summary["rules"] and summary["shared"]["ModelLatencyP95High (alpha)"] == 2


HOSTILE = [("predictor", "ns-p", {}), ("ns", "ns", {}), ("m1", "ns-1", {}), ("m2", "ns-2", {}),
           ("knative", "ns-3", {})]


def test_a_name_that_is_also_a_literal_does_not_merge_two_rules():
    spec = load_spec_data(_fleet(HOSTILE), "f.yaml")
    defs = A.alert_definitions(spec)
    shapes = A.rule_shapes(spec, defs)
    # the recording it reads selects "<isvc>-predictor": for a model called predictor that text differs
    assert [d.model for d in _shape_of(shapes, "ModelLatencyP95High", "predictor").members] == ["predictor"]
    # model and namespace both "ns": not the template of m1 in ns-1
    assert [d.model for d in _shape_of(shapes, "ModelErrorRateHigh", "ns").members] == ["ns"]
    assert {d.model for d in _shape_of(shapes, "ModelLatencyP95High", "m1").members} >= {"m1", "m2"}
    # every member's rule is its representative's with the identity strings swapped, exactly
    merged = 0
    for s in shapes:
        r = s.representative
        for d in s.members[1:]:
            pairs = {k: v for k, v in ((r.model, d.model), (r.namespace, d.namespace)) if k}
            rep_text = orjson.dumps(prometheus_alert_rule(r), option=orjson.OPT_SORT_KEYS).decode()
            assert _swapped(rep_text, pairs) == orjson.dumps(prometheus_alert_rule(d), option=orjson.OPT_SORT_KEYS).decode()
            merged += 1
    assert merged > 10


def test_substitute_is_a_longest_first_alternation_whatever_the_values():
    # a token inside another ("pred" in "predictor") is not cut, whichever order the pairs come in
    assert _substitute("predictor pred x-pred", {"pred": "M", "predictor": "I"}) == "I M x-M"
    assert _substitute("predictor pred x-pred", {"predictor": "I", "pred": "M"}) == "I M x-M"
    # all at once: a replacement is not replaced again (a swap and its way back)
    assert _substitute("m1 in ns-1", {"m1": "ns-1", "ns-1": "m1"}) == "ns-1 in m1"
    # the same keys (one cached pattern) with other values: this call's values
    assert _substitute("m1 in ns-1", {"m1": "a", "ns-1": "b"}) == "a in b"
    assert _substitute("m1 in ns-1", {"m1": "c", "ns-1": "d", "": "e"}) == "c in d"  # empty token ignored
    assert _substitute("m1 in ns-1", {"": "e"}) == "m1 in ns-1"
    assert _substitute("a.b a+b", {"a.b": "X"}) == "X a+b"  # tokens are literal, not patterns
    # rule_shapes splits once and joins: the same text as _substitute for any values of the keys
    text = 'predictor{pod="predictor-x", ns="ns"} pred ns-1'
    for pairs in ({"pred": "M", "predictor": "I"}, {"ns": "N", "ns-1": "\x00", "": "e"}, {"x": "y"}, {}):
        parts = _split(text, pairs)
        assert "".join(parts) == text
        assert _join(parts, pairs) == _substitute(text, pairs)
        assert _join(parts, {k: v + "!" for k, v in pairs.items()}) == _substitute(text, {k: v + "!" for k, v in pairs.items()})


def _regex_substitute(text: str, pairs: dict[str, str]) -> str:
    """The reference: one regex alternation of the tokens, longest first."""
    pairs = {k: v for k, v in pairs.items() if k}
    if not pairs:
        return text
    pattern = "|".join(re.escape(k) for k in sorted(pairs, key=lambda k: (-len(k), k)))
    return re.sub(pattern, lambda m: pairs[m.group(0)], text)


@settings(max_examples=800, deadline=None)
@given(st.text(alphabet="ab-.*", max_size=40), st.lists(st.text(alphabet="ab-.*", max_size=4), max_size=4))
def test_substitute_cuts_as_a_longest_first_regex_alternation(text, tokens):
    pairs = {k: f"<{i}>" for i, k in enumerate(tokens)}
    assert _substitute(text, pairs) == _regex_substitute(text, pairs)
    assert "".join(_split(text, pairs)) == text


def test_recording_index_candidates_keep_file_order():
    spec = load_spec_data(_fleet(HOSTILE), "f.yaml")
    index = recording_index(spec)
    recs = index.recs
    assert len({r.labels.get("model") for r in recs}) > 3
    for models in ({"m2"}, {"m2", "m1"}, {"knative", "predictor", "ns"}, {"m1", "nonesuch"}, {"nonesuch"}):
        expected = [r for r in recs if r.labels.get("model") in models]
        assert index.candidates(models) == expected and (expected or models == {"nonesuch"})
    assert index.candidates({None, "m1"}) == recs  # a fleet-wide alert reads every rule
    names = sorted({r.record for r in recs})
    assert len(names) > 1
    for records in ({names[0]}, set(names[:2]), set(names), {"nonesuch"}, {names[-1], "nonesuch"}):
        assert index.recording(records) == [r for r in recs if r.record in records]


@pytest.mark.skipif(PROMTOOL is None, reason="promtool missing")  # `make test` installs it
def test_hostile_names_fleet_passes_promtool_and_reports_shapes(tmp_path, write_spec):
    from modeldash.scripts.cli import main

    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["render", str(write_spec(_fleet(HOSTILE))), "-o", str(out)])
    assert result.exit_code == 0, result.output
    spec = load_spec_data(_fleet(HOSTILE), "f.yaml")
    covered = A.shape_summary(A.rule_shapes(spec, A.alert_definitions(spec)))
    result = CliRunner().invoke(main, ["test-rules", str(out)])
    assert result.exit_code == 0, result.output
    assert f"test cases covering {covered['rules']} rules ({covered['shapes']} shapes), 0 failed" in result.output
    assert covered["shapes"] < covered["rules"]
