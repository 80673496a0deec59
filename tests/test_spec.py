"""The fleet spec: defaults from the user's notes, inheritance, and every bad-input case."""
from __future__ import annotations

import pytest

from modeldash.spec.fleet import SpecError, bundled_example, format_duration, load_spec_data, parse_duration
from tests.conftest import EXAMPLE


def test_bundled_example_is_the_one_examples_fleet():
    # One copy: the package's example is the repository's examples/fleet.yaml itself, not a copy.
    assert bundled_example().resolve() == EXAMPLE.resolve()
    assert not list(EXAMPLE.parents[1].glob("_package/**/fleet.yaml"))


def test_example_has_required_variety(example_spec):
    tasks = {m.task for m in example_spec.models}
    backends = {example_spec.backend_for(m).name for m in example_spec.models}
    assert tasks == {"classification", "regression"}
    assert any(len(m.classes) == 2 for m in example_spec.models)  # binary (fraud)
    assert any(len(m.classes) > 2 for m in example_spec.models)  # multi-class
    assert len(backends) >= 2


def test_defaults_from_user_notes():
    spec = load_spec_data({"models": [{"name": "m", "namespace": "ns", "task": "regression"}]})
    t = spec.models[0].thresholds
    assert (t.latency_p95.warning, t.latency_p95.critical, t.latency_p95.for_) == (0.5, 1.0, 300)
    assert t.error_ratio.critical == 0.05
    assert (t.drift.threshold, t.drift.for_) == (0.3, 900)
    assert spec.infrastructure.node_cpu.warning == 0.85
    assert spec.platform.restarts_in_5m == 3


def test_model_thresholds_inherit_fleet_defaults_field_by_field(example_spec):
    price = next(m for m in example_spec.models if m.name == "price-regressor")
    assert price.thresholds.latency_p95.warning == pytest.approx(0.2)  # own
    assert price.thresholds.latency_p95.for_ == 300  # from defaults
    assert price.thresholds.drift.threshold == 0.3
    fraud = next(m for m in example_spec.models if m.name == "fraud-detector")
    assert fraud.thresholds.quality.accuracy_min == 0.9


@pytest.mark.parametrize(
    "text,seconds", [("5m", 300), ("1h30m", 5400), ("500ms", 0.5), ("1s", 1), (2, 2), ("0", 0)]
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["5x", "m5", "1.5m", "", -1, True])
def test_bad_durations(bad):
    with pytest.raises(ValueError):
        parse_duration(bad)


def test_format_duration_round_trips():
    for s in (300, 5400, 0.5, 1, 86400, 90):
        assert parse_duration(format_duration(s)) == s


def _model(**kw):
    return {"name": "m", "namespace": "ns", "task": "regression", **kw}


BAD_SPECS = [
    ({"models": [_model(colour="red")]}, "models[0].colour", "unknown key"),
    ({"models": [_model(task="ranking")]}, "models[0].task", "classification"),
    ({"models": [_model(namespace=3)]}, "models[0].namespace", "string"),
    ({"models": [_model(), _model(namespace="other")]}, "models[1].name", "duplicate model name"),
    ({"models": [_model(thresholds={"latency_p95": {"warning": "2s", "critical": "1s"}})]},
     "models[0].thresholds.latency_p95", "must be below critical"),
    ({"defaults": {"thresholds": {"error_ratio": {"warning": 0.1, "critical": 0.05}}}, "models": [_model()]},
     "defaults.thresholds.error_ratio", "must be below critical"),
    ({"models": [_model(task="classification", classes={"a": 0.5, "b": 0.3})]}, "models[0].classes", "sum to 0.8"),
    ({"models": [_model(task="classification", classes={"a": 1.0})]}, "models[0].classes", "at least two"),
    ({"models": [_model(name="Fraud_Model")]}, "models[0].name", "valid uid"),
    ({"models": [_model(name="x" * 31)]}, "models[0].name", "valid uid"),
    ({"models": [_model(thresholds={"drift": {"for": "soon"}})]}, "models[0].thresholds.drift.for", "not a duration"),
    ({"models": [_model(backend="seldon")]}, "models[0].backend", "unknown serving backend"),
    ({"models": [_model(thresholds={"error_ratio": {"critical": 5}})]}, "models[0].thresholds.error_ratio.critical", "ratio"),
    ({"models": [_model(thresholds={"drift": {"threshold": -1}})]}, "models[0].thresholds.drift.threshold", "negative"),
    ({"models": []}, "models", "at least 1"),
    ({"modles": []}, "modles", "unknown key"),
    ({"models": [_model(features=["a", "a"])]}, "models[0].features", "duplicate feature"),
    ({"models": [_model(labels={"bad-label": "x"})]}, "models[0].labels.bad-label", "label name"),
]


@pytest.mark.parametrize("data,field,words", BAD_SPECS, ids=[f for _, f, _ in BAD_SPECS])
def test_bad_spec_names_the_field(data, field, words):
    with pytest.raises(SpecError) as exc:
        load_spec_data(data, "fleet.yaml")
    assert exc.value.field == field
    assert words in exc.value.reason
    assert str(exc.value).startswith(f"fleet.yaml: {field}: ")


@pytest.mark.parametrize("data,field,words", BAD_SPECS[:6], ids=[f for _, f, _ in BAD_SPECS[:6]])
def test_bad_spec_cli_exit_2_and_writes_nothing(cli, write_spec, tmp_path, data, field, words):
    path = write_spec(data)
    out = tmp_path / "out"
    result = cli("render", path, "-o", out)
    assert result.exit_code == 2, result.output
    line = result.output.strip()
    assert "\n" not in line and field in line and str(path) in line
    assert "Traceback" not in result.output
    assert not out.exists()


def test_bad_yaml_is_one_line(cli, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("models: [\n  - name: x\n")
    result = cli("render", path, "-o", tmp_path / "out")
    assert result.exit_code == 2
    assert "broken.yaml" in result.output and "line" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_bad_spec_keeps_previous_output(cli, write_spec, tmp_path, example_data):
    out = tmp_path / "out"
    assert cli("render", write_spec(example_data), "-o", out).exit_code == 0
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    example_data["models"][0]["task"] = "nonsense"
    assert cli("render", write_spec(example_data), "-o", out).exit_code == 2
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before


def test_duplicate_yaml_keys_are_an_error(cli, tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("models:\n  - name: a\n    namespace: x\n    task: regression\n    namespace: y\n")
    result = cli("render", path, "-o", tmp_path / "out")
    assert result.exit_code == 2
    assert "dup.yaml" in result.output and "duplicate key 'namespace'" in result.output and "line 5" in result.output
    assert not (tmp_path / "out").exists()
