"""Property test (issue 11): random values and structures in every spec field never crash render.

Each example is the bundled example fleet cut to one of its models, with one to three
mutations: a random value at any field the spec models declare (found by walking the pydantic
models, so a new field is fuzzed without editing this file), a random existing leaf replaced,
a key deleted, or a random key added. ``modeldash render`` runs in-process; it must exit 0 or
2 (one ``error:`` line), never 1 (lint of our own output) and never a traceback. A sample of
the accepted specs then goes through the real ``promtool check rules``, ``amtool
check-config`` and ``kubectl kustomize``.

Bounded: ``MAX_EXAMPLES`` examples (a one-model render is ~0.5 s), tools on ``TOOL_SAMPLE``.
"""
from __future__ import annotations

import os
import random
import shutil
import subprocess
import types
from collections import Counter
from pathlib import Path
from typing import Annotated, Union, get_args, get_origin

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from modeldash.scripts.cli import main
from modeldash.spec.fleet import FleetSpec

REPO = Path(__file__).resolve().parent.parent
MAX_EXAMPLES = int(os.environ.get("MODELDASH_FUZZ_EXAMPLES", "150"))  # more by hand: =2000
TOOL_SAMPLE = int(os.environ.get("MODELDASH_FUZZ_TOOL_SAMPLE", "4"))
DICT_KEY = object()  # a mapping key in a schema path (filled with the kept model's name)

HOSTILE = [
    'amount"} or vector(1) or model_drift_score{feature="x', '{{ with query "up" }}x{{ end }}', "{{feature}}",
    "a\nb", "back\\slash", 'q"uote', "$HOME", "${X}", "ML\x00Models", "\U0001F600" * 70, "", " ", "..", "a/b",
    "-1", "nan", "inf", "1e30", "0", "0ms", "0.0001", "5m", "1h30m", "1y", "1000y", "500ms", "8d",
    "61 * * * *", "a b c d e", "*/5 * * * *", "@hourly", "__name__", "model", "severity", "managed_by",
    "not a label!", "http://x.example", "not a url", "#chan", "@me", "x@example.com", "kserve", "istio",
    "knative", "psi", "ks", "classification", "regression", "ModelDriftHihg", "ModelDriftHigh",
    "ServiceMonitor", "PodMonitor", "ghcr.io/x/y:1", "app.kubernetes.io/name", "http", "ml-slack",
]
# values a spec may well hold (so that many mutated specs are accepted and rendered)
PLAUSIBLE = st.one_of(
    st.floats(0.01, 0.99), st.integers(1, 20), st.sampled_from(["30s", "5m", "1h", "250ms", "2d", "0s"]),
    st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), st.booleans(),
)
SCALARS = st.one_of(
    PLAUSIBLE, PLAUSIBLE, PLAUSIBLE,
    st.none(), st.booleans(),
    st.integers(-(2 ** 70), 2 ** 70), st.integers(-3, 70000),
    st.floats(allow_nan=True, allow_infinity=True), st.floats(-2, 2),
    st.sampled_from(HOSTILE),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=10),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(HOSTILE) | st.text(max_size=5),
                                                                 inner, max_size=3),
    max_leaves=6,
)


def _unwrap(tp):
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    return tp


def _paths_of_type(tp, path: tuple) -> list[tuple]:
    tp = _unwrap(tp)
    origin = get_origin(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return schema_paths(tp, path)
    if origin in (Union, types.UnionType):
        return [p for arg in get_args(tp) for p in _paths_of_type(arg, path)]
    if origin is list:
        return _paths_of_type(get_args(tp)[0], path + (0,))
    if origin is dict:
        return _paths_of_type(get_args(tp)[1], path + (DICT_KEY,))
    return []


def schema_paths(model: type[BaseModel], prefix: tuple = ()) -> list[tuple]:
    """Every field path the spec models declare (``("models", 0, "thresholds", "drift", "for")``, ...)."""
    out = []
    for name, info in model.model_fields.items():
        path = prefix + (info.alias or name,)
        out.append(path)
        out += _paths_of_type(info.annotation, path)
    return sorted(set(out), key=str)


SCHEMA_PATHS = schema_paths(FleetSpec)


def _base(model_index: int) -> dict:
    data = yaml.safe_load((REPO / "examples" / "fleet.yaml").read_text())
    data["models"] = [data["models"][model_index]]
    name = data["models"][0]["name"]
    data["jobs"]["models"] = {k: v for k, v in data["jobs"].get("models", {}).items() if k == name}
    return data


def _leaf_paths(node, prefix=()) -> list[tuple]:
    out = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        out.append(prefix + (key,))
        out += _leaf_paths(value, prefix + (key,))
    return out


def _put(data: dict, path: tuple, value, model_name: str) -> None:
    """Set ``path`` (creating mappings on the way) to ``value``."""
    node = data
    for i, key in enumerate(path):
        key = model_name if key is DICT_KEY else key
        last = i == len(path) - 1
        if isinstance(key, int):
            if not isinstance(node, list):
                return
            if not node:
                node.append({})
            key = min(key, len(node) - 1)
        elif isinstance(node, list):  # an earlier op made a mapping a list: this path is gone
            return
        if last:
            node[key] = value
            return
        child = node.get(key) if isinstance(node, dict) else node[key]
        if not isinstance(child, (dict, list)):
            child = {"name": child} if isinstance(child, str) else {}  # a feature given by name
            node[key] = child
        node = child


def _apply(data: dict, op, model_name: str) -> None:
    kind, where, value = op
    if kind == "set":
        _put(data, where, value, model_name)
        return
    leaves = _leaf_paths(data)
    *parent_path, key = leaves[where % len(leaves)]
    parent = data
    for k in parent_path:
        parent = parent[k]
    if kind == "replace":
        parent[key] = value
    elif kind == "delete":
        del parent[key]
    elif kind == "add":
        target = parent[key] if isinstance(parent[key], dict) else parent
        if isinstance(target, dict):
            target[value[0]] = value[1]


OPS = st.one_of(
    st.tuples(st.just("set"), st.sampled_from(SCHEMA_PATHS), VALUES),
    st.tuples(st.just("set"), st.sampled_from(SCHEMA_PATHS), PLAUSIBLE),
    st.tuples(st.just("delete"), st.integers(0, 10 ** 6), st.none()),
    st.tuples(st.just("replace"), st.integers(0, 10 ** 6), VALUES),
    st.tuples(st.just("delete"), st.integers(0, 10 ** 6), st.none()),
    st.tuples(st.just("add"), st.integers(0, 10 ** 6), st.tuples(st.sampled_from(HOSTILE) | st.text(max_size=8), VALUES)),
)


def _check_tools(out: Path) -> None:
    for cmd in (["promtool", "check", "rules", str(out / "prometheus" / "rules.yaml")],
                ["amtool", "check-config", str(out / "alertmanager" / "alertmanager.yaml")],
                ["kubectl", "kustomize", str(out / "k8s")]):
        if cmd[0] == "kubectl" and not (out / "k8s").exists():
            continue  # kubernetes.enabled: false renders no k8s/ tree
        if not (Path(cmd[-1]).exists()):
            continue  # alerting disabled: no rules / no Alertmanager config
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, f"{' '.join(cmd)}:\n{proc.stdout}{proc.stderr}"


def test_render_never_crashes_and_accepted_output_passes_the_tools(tmp_path):
    for tool in ("promtool", "amtool", "kubectl"):
        assert shutil.which(tool), f"{tool} is not installed (run `make test`)"
    runner = CliRunner()
    counts = {"examples": 0, "accepted": 0, "refused": 0}
    reasons: Counter = Counter()  # which reason refused how many (printed with -s)
    sample: list[Path] = []
    pick = random.Random(11)

    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, print_blob=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(model_index=st.integers(0, 2), ops=st.lists(OPS, min_size=1, max_size=3))
    def render_mutated(model_index, ops):
        data = _base(model_index)
        name = data["models"][0]["name"]
        for op in ops:
            _apply(data, op, name)
        n = counts["examples"] = counts["examples"] + 1
        spec = tmp_path / f"fleet-{n}.yaml"
        spec.write_text(yaml.safe_dump(data, allow_unicode=True))
        out = tmp_path / f"out-{n}"
        result = runner.invoke(main, ["render", str(spec), "-o", str(out)])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code in (0, 2), f"exit {result.exit_code}: {result.output}"
        if result.exit_code == 2:
            counts["refused"] += 1
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
            reasons[lines[0].split(": ", 3)[-1][:50]] += 1
            assert not out.exists()
            return
        counts["accepted"] += 1
        # reservoir sample of the accepted outputs for the (slower) real tools
        if len(sample) < TOOL_SAMPLE:
            sample.append(out)
        else:
            j = pick.randrange(counts["accepted"])
            if j < TOOL_SAMPLE:
                shutil.rmtree(sample[j])
                sample[j] = out
            else:
                shutil.rmtree(out)

    render_mutated()
    print(f"fuzz: {counts['examples']} examples, {counts['accepted']} accepted, {counts['refused']} refused; "
          f"most common refusals: {reasons.most_common(8)}")
    assert counts["accepted"] and counts["refused"], counts  # both branches were exercised
    for out in sample:
        _check_tools(out)


def test_schema_walk_reaches_nested_fields():
    """The fuzzer sees every section, including ones the example does not write."""
    paths = set(SCHEMA_PATHS)
    for expected in [("platform", "restarts_in_5m"), ("infrastructure", "node_cpu", "for"),
                     ("models", 0, "features", 0, "name"), ("jobs", "models", DICT_KEY, "baseline_configmap"),
                     ("alerting", "routes", "teams", DICT_KEY, "critical"),
                     ("kubernetes", "endpoints", DICT_KEY, "endpoints", 0, "port")]:
        assert expected in paths, expected
