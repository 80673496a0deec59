"""Alertmanager ``inhibit_rules``: a critical alert silences its warning twin on the same object.

Why: the catalog defines several alerts at two severities (ModelErrorRateHigh, NodeDiskAlmostFull,
... and the ModelLatencyP95High / ModelLatencyP95Critical pair, which has two names). Without
inhibition both notify, and the warning adds noise exactly when the critical needs attention.

A *family* is derived from the definitions, not listed by hand: definitions of one object (model
or namespace) with the same expression and comparison at different severities. Twins that share
a name get one rule with ``alertname`` in ``equal``; twins with two names get one rule per name
pair. ``equal`` holds every label that identifies the alert's object (the definition's labels and
the expression's output labels, without ``severity`` and the name): Alertmanager counts a label
missing on both sides as equal, so an unused name in the list is harmless.

Grafana-managed alerting has no equivalent in what modeldash writes: Grafana before 13 has no
inhibition rules, and 13's (API only, behind an experimental feature toggle) are not provisioned
(docs/alerts.md).
"""
from __future__ import annotations

from collections import defaultdict

from modeldash.spec.alerting import MANAGED_LABEL

_NOT_IDENTITY = {"severity", "alertname", "modeldash_alert"}


def _identity(defs) -> set[str]:
    keys: set[str] = set()
    for d in defs:
        keys |= set(d.labels)
        if d.scenario is not None:
            keys |= set(d.scenario.output_labels)
    return keys - _NOT_IDENTITY


def _matchers(**labels: str) -> list[str]:
    return [f'{MANAGED_LABEL[0]}="{MANAGED_LABEL[1]}"'] + [f'{k}="{v}"' for k, v in labels.items()]


def _regex(names) -> str:
    return "|".join(sorted(names))


def inhibit_rules(definitions) -> list[dict]:
    """The inhibit rules for ``definitions`` (``alerts.catalog.alert_definitions``), deterministic."""
    families: dict[tuple, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for d in definitions:
        families[(d.model, d.namespace, d.layer, d.expr, d.op)][d.severity].append(d)
    same_name: dict[str, set[str]] = defaultdict(set)  # name -> identity labels
    renamed: dict[tuple[str, str], set[str]] = defaultdict(set)  # (critical, warning) -> identity labels
    for by_sev in families.values():
        for crit in by_sev.get("critical", ()):
            for warn in by_sev.get("warning", ()):
                if crit.name == warn.name:
                    same_name[crit.name] |= _identity((crit, warn))
                else:
                    renamed[(crit.name, warn.name)] |= _identity((crit, warn))
    rules = []
    if same_name:
        names = _regex(same_name)
        rules.append({
            "source_matchers": _matchers(severity="critical") + [f'alertname=~"{names}"'],
            "target_matchers": _matchers(severity="warning") + [f'alertname=~"{names}"'],
            "equal": ["alertname"] + sorted(set().union(*same_name.values())),
        })
    for (crit, warn), labels in sorted(renamed.items()):
        rules.append({
            "source_matchers": _matchers(severity="critical", alertname=crit),
            "target_matchers": _matchers(severity="warning", alertname=warn),
            "equal": sorted(labels),
        })
    return rules
