"""How a sync plan or result is shown: a table for people, JSON for CI.

Why separate: the CLI prints these, tests and the benchmark read them; neither needs click.
"""
from __future__ import annotations

SUMMARY_COLUMNS = ("created", "updated", "unchanged", "deleted", "conflicts", "failed", "requests")
PLAN_COLUMNS = ("to_create", "to_update", "to_delete", "unchanged", "conflicts", "requests")


def report_json(report, fleet: str, url: str, skipped: list[str]) -> dict:
    objects = []
    for a in report.actions:
        item = {"kind": a.kind, "key": a.key, "title": a.title, "action": a.op}
        if a.result:
            item["result"] = a.result
        if a.model:
            item["model"] = a.model
        if a.reason:
            item["reason"] = a.reason
        if a.error:
            item["error"] = a.error
        if a.diff:
            item["diff"] = a.diff
        objects.append(item)
    return {
        "fleet": fleet, "grafana": url, "applied": report.applied, "summary": report.count(),
        "requests_by_method": report.requests_by_method, "skipped_kinds": skipped,
        "deleted": [f"{a.kind} {a.key}" for a in report.actions if a.result == "deleted"],
        "conflicts": [f"{a.kind} {a.key}" for a in report.conflicts],
        "failed": [{"object": f"{a.kind} {a.key}", "error": a.error} for a in report.failures],
        "objects": objects,
        "notes": list(getattr(report, "notes", [])),
    }


def _indent(text: str) -> str:
    return "\n".join("      " + line for line in text.splitlines())


def report_table(report, fleet: str, url: str, show_diffs: bool) -> str:
    lines = [f"modeldash {'sync' if report.applied else 'diff'}: fleet {fleet} -> {url}"]
    for a in report.actions:
        state = a.result or a.op
        if state in ("unchanged", "extra"):
            if state == "extra":
                lines.append(f"  {'extra':<10} {a.kind:<14} {a.key}  (managed, not in the spec; --prune deletes it)")
            continue
        line = f"  {state:<10} {a.kind:<14} {a.key}"
        if a.title and a.title != a.key:
            line += f"  {a.title!r}"
        if a.reason:
            line += f"  ({a.reason})"
        if a.error:
            line += f"  error: {a.error}"
        lines.append(line)
        if a.diff and (state == "conflict" or (show_diffs and a.op in ("update", "delete"))):
            lines.append(_indent(a.diff))
    counts = report.count()
    cols = SUMMARY_COLUMNS if report.applied else PLAN_COLUMNS
    lines.append("")
    lines.append("  ".join(f"{c:>10}" for c in cols))
    lines.append("  ".join(f"{counts[c]:>10}" for c in cols))
    deleted = [f"{a.kind} {a.key}" for a in report.actions if a.result == "deleted"]
    if deleted:
        lines.append("deleted: " + ", ".join(deleted))
    if report.failures:
        lines.append("failed:")
        lines += [f"  {a.kind} {a.key}: {a.error}" for a in report.failures]
    lines += [f"note: {n}" for n in getattr(report, "notes", [])]
    return "\n".join(lines)


