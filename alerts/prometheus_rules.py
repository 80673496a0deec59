"""Prometheus side of the alert catalogue: rules file, PrometheusRule objects, promtool tests.

Groups mirror the Grafana rule groups (one per layer and one per model) plus one group of
recording rules. The promtool unit tests are generated from each definition's scenario and
expect exactly what the rule will produce: labels and the expanded annotations. They are written
one file per chunk of an alert's models (``test_shards``), each loading only that chunk's rules.
"""
from __future__ import annotations

import heapq
from collections import defaultdict
from dataclasses import dataclass
from operator import itemgetter

import orjson

from modeldash.alerts.catalog import AlertDefinition, alert_definitions, expand_template, render_template
from modeldash.alerts.recording_rules import recording_rules
from modeldash.alerts.sharding import alert_groups, recording_groups
from modeldash.alerts.slo_rules import slo_recording_rules, slo_rule_groups
from modeldash.alerts.test_shards import chunks
from modeldash.spec.base import format_duration

RULES_FILE = "rules.yaml"
TEST_RULES_DIR = "rules"  # prometheus/tests/rules/<test>.yaml: the rules one test file loads


def prometheus_alert_rule(d: AlertDefinition) -> dict:
    value = "$value"
    return {
        "alert": d.name,
        "expr": d.condition,
        "for": d.for_text,
        "labels": dict(d.labels),
        "annotations": _annotations(d, value),
    }


def _annotations(d: AlertDefinition, value_ref: str) -> dict:
    return {
        "summary": render_template(d.summary, value_ref, d.value_format),
        "description": render_template(d.description, value_ref, d.value_format),
        "runbook_url": d.runbook_url,
    }


def prometheus_rules(spec, defs: list[AlertDefinition] | None = None, recordings: list | None = None) -> dict:
    """A plain rules file (``rule_files`` / ``promtool check rules``): recording + alerting groups,
    recording groups first (``sharding``: one per namespace; alerting: as the Grafana groups).
    ``recordings``: ``recording_rules(spec)`` when the caller built it already."""
    interval = format_duration(spec.alerting.interval)
    defs = alert_definitions(spec) if defs is None else defs
    recordings = recording_rules(spec) if recordings is None else recordings
    groups = [{"name": name, "interval": interval, "rules": [r.as_prometheus() for r in recs]}
              for name, recs in recording_groups(recordings).items()]
    groups += slo_rule_groups(spec, interval)  # before the alerts: promtool evaluates groups in order
    for name, group in alert_groups(defs).items():
        groups.append({"name": name, "interval": interval, "rules": [prometheus_alert_rule(d) for d in group]})
    return {"groups": groups}


def group_eval_order(rules: dict) -> list[str]:
    """Every group of a rules file, recording groups first, for a promtool test's ``group_eval_order``.

    The per-model alerts read recorded series: evaluated after the recording groups at each step,
    they see this step's values, as the cases expect. promtool only orders the groups it is told
    about (the others tie at 0 in no fixed order), so every group is listed.
    """
    groups = rules.get("groups", [])
    recording = [g["name"] for g in groups if any("record" in r for r in g["rules"])]
    return recording + [g["name"] for g in groups if g["name"] not in recording]


def prometheus_rule_manifests(spec, release: str | None = None, rules: dict | None = None) -> list[dict]:
    """One PrometheusRule per group, labelled for kube-prometheus-stack's rule selector.

    Namespace, ``release`` and extra labels are the ``kubernetes`` section's, like every other
    manifest modeldash writes.
    """
    target = spec.kubernetes
    labels = {
        "app.kubernetes.io/managed-by": "modeldash",
        "app.kubernetes.io/part-of": spec.name,
        **target.extra_labels,
        "release": release or target.release,
    }
    out = []
    for group in (rules or prometheus_rules(spec))["groups"]:
        out.append({
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PrometheusRule",
            "metadata": {"name": group["name"], "namespace": target.namespace, "labels": dict(labels)},
            "spec": {"groups": [group]},
        })
    return out


# --------------------------------------------------------------------------- promtool tests


def _expected(d: AlertDefinition, value: float, output_labels: dict) -> dict:
    labels = {**output_labels, **d.labels}
    return {
        "exp_labels": labels,
        "exp_annotations": {
            "summary": expand_template(d.summary, labels, value, d.value_format),
            "description": expand_template(d.description, labels, value, d.value_format),
            "runbook_url": d.runbook_url,
        },
    }


def promtool_tests(spec, defs: list[AlertDefinition] | None = None) -> dict[str, dict]:
    """``{test name: promtool test document}``: every definition's cases, one file per chunk of an
    alert name's models (``test_shards``: ``<Alert>``, ``<Alert>.<namespace>.<model>``, ...) and
    per evaluation interval, when long ``for`` durations give a name's cases another one
    (``<Alert>-every-<N>m...``). Each loads ``rules/<test name>.yaml`` (``promtool_test_rules``).

    Within a file, cases of same-name definitions with the same title, checks and step whose
    series do not overlap (other models, namespaces, features) are merged into one test group:
    promtool evaluates every rule at every step of every group, so fewer groups is less run time.
    """
    return _suite(spec, defs)[0]


def promtool_test_rules(spec, defs: list[AlertDefinition] | None = None) -> dict[str, dict]:
    """``{test name: rules document}``: only the rules of the test file's chunk, plus the recording
    rules they read, so promtool evaluates a bounded number of rules per step whatever the fleet."""
    return _suite(spec, defs)[1]


def promtool_suite(spec, defs: list[AlertDefinition] | None = None, shapes: list | None = None,
                   index: "_RecordingIndex | None" = None) -> tuple[dict[str, dict], dict[str, dict]]:
    """``(promtool_tests, promtool_test_rules)`` built together (what render writes): the cases of
    each shape's representative only (``rule_shapes``, computed here unless given). ``index``:
    ``recording_index(spec)`` when the caller built it for ``rule_shapes`` already."""
    return _suite(spec, defs, shapes, index)


def recording_index(spec, recordings: list | None = None) -> "_RecordingIndex":
    """The recording rules the promtool tests load, indexed; ``rule_shapes`` and ``promtool_suite``
    can share one (it is ~16,000 rules at 1,000 models). ``recordings``: ``recording_rules(spec)``
    when the caller built it already (render: the one rules.yaml was made of)."""
    recordings = recording_rules(spec) if recordings is None else recordings
    # model:* recordings, then the SLO ones (some read others: one group keeps that order)
    return _RecordingIndex(list(recordings) + [r for m in spec.models for r in slo_recording_rules(spec, m)])


def _suite(spec, defs, shapes=None, index=None) -> tuple[dict[str, dict], dict[str, dict]]:
    defs = alert_definitions(spec) if defs is None else defs
    recordings = recording_index(spec) if index is None else index
    if shapes is None:
        shapes = rule_shapes(spec, defs, recordings)
    by_name: dict[str, list[AlertDefinition]] = defaultdict(list)
    for shape in shapes:  # the tested representatives, in catalogue order
        if shape.representative.scenario is not None:
            by_name[shape.representative.name].append(shape.representative)
    files: dict[str, dict] = {}
    rules: dict[str, dict] = {}
    for name in sorted(by_name):
        chunked = [(suffix, members, _cases(members)) for suffix, members in chunks(by_name[name])]
        smallest = min((every for _s, _m, by_every in chunked for every in by_every), default=None)
        for suffix, members, by_every in chunked:
            if not by_every:
                continue
            chunk_rules = _rules_for(members, recordings)
            order = group_eval_order(chunk_rules)  # the alerts read this step's recorded values
            by_uid = {d.uid: d for d in members}
            for every, buckets in sorted(by_every.items()):
                stem = (name if every == smallest else f"{name}-every-{every}m") + suffix
                files[stem] = _test_doc(name, every, buckets, by_uid, stem, order)
                rules[stem] = chunk_rules
    return dict(sorted(files.items())), {stem: rules[stem] for stem in sorted(files)}


def _cases(members: list[AlertDefinition]) -> dict[int, list[dict]]:
    """``{evaluation interval: merged test groups}`` of one chunk's definitions."""
    models = {d.model for d in members}
    buckets: dict[int, list[dict]] = defaultdict(list)
    for d in members:
        if d.scenario is None:
            continue
        for case in d.scenario.cases(d.uid, d.for_):
            every = max(d.scenario.step, case.every)
            key = (case.name, tuple(case.checks), d.scenario.step)
            names = {s["series"] for s in case.series}
            for bucket in buckets[every]:
                if bucket["key"] == key and not (bucket["names"] & names):
                    break
            else:
                bucket = {"key": key, "names": set(), "series": [], "values": {}, "titles": [], "background": None}
                buckets[every].append(bucket)
            bucket["names"] |= names
            bucket["series"] += case.series
            bucket["values"].update(case.values)
            bucket["titles"].append(d.title)
            # only the chunk's rules are loaded: only its models' background series matter
            bg = {s["series"]: s for model, series in case.background.items() if model in models for s in series}
            bucket["background"] = bg if bucket["background"] is None else {
                k: v for k, v in bucket["background"].items() if k in bg}
    return buckets


def _test_doc(name: str, every: int, buckets: list[dict], by_uid: dict, stem: str, order: list[str]) -> dict:
    doc = {"rule_files": [f"{TEST_RULES_DIR}/{stem}.yaml"], "evaluation_interval": f"{every}m",
           "group_eval_order": order, "tests": []}
    for bucket in buckets:
        case_name, checks, step = bucket["key"]
        series = bucket["series"] + [s for k, s in sorted((bucket["background"] or {}).items())
                                     if k not in bucket["names"]]
        # the chunk's definitions this group's values drive over their threshold (only its rules are loaded)
        firing = [(d, value) for uid, value in sorted(bucket["values"].items())
                  if (d := by_uid.get(uid)) is not None and d.name == name and d.fires(value)]
        alert_tests = [{"eval_time": f"{minute}m", "alertname": name,
                        "exp_alerts": [_expected(d, v, d.scenario.output_labels) for d, v in firing] if may_fire else []}
                       for minute, may_fire in checks]
        doc["tests"].append({
            "name": f"{case_name} [{'; '.join(bucket['titles'])}]",
            "interval": f"{step}m",
            "input_series": series or [{"series": 'up{job="modeldash-test"}', "values": "1"}],
            "alert_rule_test": alert_tests,
        })
    return doc


class _RecordingIndex:
    """The recording rules by the ``model`` label they carry, and which record names each expression
    reads: a chunk's lookup walks its own models' rules, not the fleet's."""

    def __init__(self, recs: list):
        self.recs = recs
        # each model's rules (and their positions) in file order, built once: a lookup merges
        self.by_model: dict[str | None, list[tuple[int, object]]] = defaultdict(list)
        self._rules: dict[str | None, list] = defaultdict(list)
        self._by_record: dict[str, list[tuple[int, object]]] = defaultdict(list)
        for i, r in enumerate(recs):
            model = r.labels.get("model")
            self.by_model[model].append((i, r))
            self._rules[model].append(r)
            self._by_record[r.record].append((i, r))
        self.names = set(self._by_record)

    def candidates(self, models: set) -> list:
        """The rules labelled with one of ``models`` in file order (every rule for a fleet-wide alert).

        Read-only: one model's list is the index's own."""
        if None in models:
            return self.recs
        found = [m for m in models if m in self._rules]
        if len(found) == 1:
            return self._rules[found[0]]
        return [r for _i, r in heapq.merge(*(self.by_model[m] for m in found), key=itemgetter(0))]

    def recording(self, records: set) -> list:
        """Every rule that records one of ``records``, in file order (what a fleet-wide alert
        reads: merged from those records' rules, not filtered out of every rule of the fleet)."""
        lists = [self._by_record[n] for n in records if n in self._by_record]
        if len(lists) == 1:
            return [r for _i, r in lists[0]]
        return [r for _i, r in heapq.merge(*lists, key=itemgetter(0))]


def _rules_for(own: list[AlertDefinition], index: _RecordingIndex) -> dict:
    """A rules file of one chunk's alert rules and the recording rules their expressions read.

    No group ``interval``: promtool would let it override the test file's evaluation_interval."""
    models = {d.model for d in own}
    candidates = None if None in models else index.candidates(models)

    def reading(records: set) -> list:
        if candidates is None:  # every rule: by record name
            return index.recording(records)
        return [r for r in candidates if r.record in records]

    text = " ".join(d.condition for d in own)
    read: set[str] = set()
    while True:  # what the alerts read, and what those recordings read in turn
        found = {n for n in index.names - read if n in text}
        if not found:
            break
        read |= found
        text = " ".join(r.expr for r in reading(found))
    recs = reading(read)
    groups = [{"name": "recording", "rules": [r.as_prometheus() for r in recs]}] if recs else []
    groups.append({"name": own[0].name, "rules": [prometheus_alert_rule(d) for d in own]})
    return {"groups": groups}


# --------------------------------------------------------------------------- rule shapes


@dataclass
class Shape:
    """Definitions whose rules (and the recordings they read) are one template: equal after each
    one's identity strings (model, namespace, inference service) are replaced by placeholders.
    promtool tests the representative: the first member by (alert, namespace, model, key) that
    has a scenario (the catalogue gives some alerts' cases to one model per threshold only)."""
    representative: AlertDefinition
    members: list[AlertDefinition]


_ROLES = ("M", "N", "I")  # model, namespace, inference service


def _identity(d: AlertDefinition, isvc: dict[str, str]) -> tuple[str, ...]:
    return (d.model or "", d.namespace or "", isvc.get(d.model, "") if d.model else "")


def _substitute(text: str, pairs: dict[str, str]) -> str:
    """Every token of ``pairs`` replaced at once, longest first (a token inside another is not cut)."""
    return _join(_split(text, pairs), pairs)


def _split(text: str, keys) -> list[str]:
    """``text`` as ``[segment, token, segment, ..., segment]`` at its (non-empty) ``keys``, as a
    longest-first regex alternation would cut it: the leftmost match, the longest token there.

    Split once, then joined with any values of the same keys (``_join``). ``str.find`` per token
    instead of a regex: as fast, and no pattern to compile per identity set (thousands a fleet)."""
    keys = sorted({k for k in keys if k}, key=lambda k: (-len(k), k))
    if not keys:
        return [text]
    find = text.find
    next_at = [find(k) for k in keys]
    parts: list[str] = []
    i = 0
    while True:
        best, best_at = -1, len(text) + 1
        for j, k in enumerate(keys):  # longest first: at one position the first found wins
            at = next_at[j]
            if 0 <= at < i:  # overlapped by the last match: look again after it
                at = next_at[j] = find(k, i)
            if 0 <= at < best_at:
                best, best_at = j, at
        if best < 0:
            break
        parts += (text[i:best_at], keys[best])
        i = best_at + len(keys[best])
    parts.append(text[i:])
    return parts


def _join(parts: list[str], pairs: dict[str, str]) -> str:
    """``_substitute(text, pairs)`` from ``_split(text, pairs)``."""
    out = list(parts)
    out[1::2] = [pairs[t] for t in parts[1::2]]
    return "".join(out)


def _placeholders(ident: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for role, token in zip(_ROLES, ident):
        if token:
            out.setdefault(token, f"\x00{role}\x00")  # NUL never occurs in the JSON text of a rule
    return out


def _rule_text(d: AlertDefinition, index: "_RecordingIndex") -> str:
    """What one definition's test exercises: its alert rule and the recordings it reads."""
    own = _rules_for([d], index)
    return orjson.dumps([d.name, d.layer, d.severity, d.op, d.threshold, d.for_, d.key, d.value_format,
                         own["groups"]], option=orjson.OPT_SORT_KEYS).decode()


def rule_shapes(spec, defs: list[AlertDefinition], index: "_RecordingIndex | None" = None) -> list[Shape]:
    """The definitions grouped by rule shape, in catalogue order of their representatives.

    Two definitions share a shape when their texts (``_rule_text``) are equal with each one's own
    identity tokens as placeholders, and the representative's text with its tokens swapped for
    the member's (and back) is exactly the member's: a name that occurs elsewhere in a rule
    (a model called ``predictor``) cannot merge two different rules. A shape none of whose
    members has a scenario is not tested."""
    index = index or recording_index(spec)
    isvc = {m.name: m.isvc for m in spec.models}
    shapes: list[Shape] = []
    by_sig: dict[str, list[tuple[Shape, str, tuple, list[str]]]] = defaultdict(list)
    for d in sorted(defs, key=lambda d: (d.name, d.namespace or "", d.model or "", d.key)):
        ident = _identity(d, isvc)
        text = _rule_text(d, index)
        marks = _placeholders(ident)
        parts = _split(text, marks)  # one scan: the signature and both swaps below are joins
        sig = _join(parts, marks)
        for shape, rep_text, rep_ident, rep_parts in by_sig[sig]:
            swap = {a: b for a, b in zip(rep_ident, ident) if a}  # keys: the rep's split keys
            back = {b: a for a, b in swap.items()}
            if (len(back) == len(swap) and _join(rep_parts, swap) == text
                    and (_join(parts, back) if {k for k in back if k} == marks.keys()
                         else _substitute(text, back)) == rep_text):
                shape.members.append(d)
                if shape.representative.scenario is None and d.scenario is not None:
                    shape.representative = d
                    for i, entry in enumerate(by_sig[sig]):
                        if entry[0] is shape:
                            by_sig[sig][i] = (shape, text, ident, parts)
                break
        else:
            shape = Shape(d, [d])
            shapes.append(shape)
            by_sig[sig].append((shape, text, ident, parts))
    order = {id(d): i for i, d in enumerate(defs)}
    return sorted(shapes, key=lambda s: order[id(s.representative)])


def shape_summary(shapes: list[Shape]) -> dict:
    """For the render manifest: how many rules the tests cover in how many shapes, and each
    shared shape's representative (its title) with its member count."""
    tested = [s for s in shapes if s.representative.scenario is not None]
    return {"rules": sum(len(s.members) for s in tested), "shapes": len(tested),
            "shared": {s.representative.title: len(s.members) for s in tested if len(s.members) > 1}}


def count_cases(tests: dict[str, dict]) -> int:
    return sum(len(doc["tests"]) for doc in tests.values())
