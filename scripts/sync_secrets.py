"""Contact-point secrets referenced as ``$VAR``: filled in from the environment for a sync,
compared where possible for a diff.

Why: a pull request's diff runs without the Slack/SMTP secrets (forks never get them, and a
diff should not need them), while the sync that writes contact points needs every one. So a
diff compares what it can and says which secure settings it could not compare; a sync names
every missing variable up front (names only, never values) before it contacts Grafana.
An empty variable counts as unset: that is what CI gives for a secret that does not exist.
"""
from __future__ import annotations

import re

VAR_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def referenced(settings: dict) -> dict[str, list[str]]:
    """``{setting key: [variable names]}`` of the ``$VAR`` references in a contact point's settings."""
    out: dict[str, list[str]] = {}

    def walk(key: str, value) -> None:
        if isinstance(value, dict):
            for v in value.values():
                walk(key, v)
        elif isinstance(value, list):
            for v in value:
                walk(key, v)
        elif isinstance(value, str):
            for m in VAR_RE.finditer(value):
                name = m.group(1) or m.group(2)
                if name not in out.setdefault(key, []):
                    out[key].append(name)

    for key, value in settings.items():
        walk(key, value)
    return {k: v for k, v in out.items() if v}


def unset(desired, env: dict) -> dict[str, dict[str, list[str]]]:
    """``{contact point key: {setting: [unset variables]}}`` over every desired contact point."""
    out: dict[str, dict[str, list[str]]] = {}
    for d in desired:
        if d.kind != "contact_point":
            continue
        for key, names in referenced(d.body.get("settings") or {}).items():
            missing = [n for n in names if not env.get(n)]
            if missing:
                out.setdefault(d.key, {})[key] = missing
    return out


def missing_for_sync(desired, gaps: dict[str, dict[str, list[str]]]) -> str:
    """One line naming every variable a sync needs and does not have, and who needs it."""
    titles = {d.key: d.title for d in desired if d.kind == "contact_point"}
    needed: dict[str, list[str]] = {}
    for key, settings in gaps.items():
        for names in settings.values():
            for n in names:
                if titles[key] not in needed.setdefault(n, []):
                    needed[n].append(titles[key])
    parts = [f"{n} (contact point {', '.join(sorted(set(t)))})" for n, t in sorted(needed.items())]
    return (f"sync needs {len(parts)} environment variable(s) for contact-point secrets that are not set "
            f"(or empty): {'; '.join(parts)}. Set them (in CI: as secrets of the sync job); `diff` works without them")


def diff_notes(desired, gaps: dict[str, dict[str, list[str]]]) -> list[str]:
    """What a diff could not compare, one note per contact point."""
    titles = {d.key: d.title for d in desired if d.kind == "contact_point"}
    notes = []
    for key in sorted(gaps, key=lambda k: (titles.get(k, k), k)):
        names = sorted({n for ns in gaps[key].values() for n in ns})
        notes.append(f"contact point {titles.get(key, key)}: secure settings {', '.join(sorted(gaps[key]))} not compared "
                     f"({', '.join('$' + n for n in names)} not set)")
    return notes
