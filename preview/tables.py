"""A table panel's frames as Grafana's table shows them: one frame per query, then transformations.

With ``format: table`` each query gives a frame of ``Time``, its label columns and ``Value`` (or
``Value #<refId>`` when the panel has several queries). ``merge`` joins the frames into one table
on their shared fields (rows whose shared fields are equal become one row, missing cells empty);
``organize`` drops ``excludeByName`` fields, orders by ``indexByName`` and renames by
``renameByName`` (the original name stays, as Grafana keeps it for ``${__data.fields.<name>}``).
Any other transformation is left undone and named in ``notes`` so the page says so.
"""
from __future__ import annotations

from datetime import datetime, timezone


def _utc(ts) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _value_name(ref_id: str, multi: bool) -> str:
    return f"Value #{ref_id}" if multi else "Value"


def query_frames(frame: dict) -> list[dict]:
    """One ``{"fields": [names], "rows": [{name: value}]}`` per refId, in query order."""
    series = frame.get("series") or []
    xs = frame.get("x") or []
    refs = list(dict.fromkeys(s.get("refId", "A") for s in series))
    out = []
    for ref in refs:
        mine = [s for s in series if s.get("refId", "A") == ref]
        labels = sorted({k for s in mine for k in (s.get("labels") or {}) if k != "__name__"})
        value = _value_name(ref, len(refs) > 1)
        rows = []
        for s in mine:
            points = [(t, v) for t, v in zip(xs, s.get("values") or []) if v is not None]
            t, v = points[-1] if points else (None, None)
            row = {"Time": t, value: v}
            row.update({k: (s.get("labels") or {}).get(k) for k in labels})
            rows.append(row)
        out.append({"fields": ["Time", *labels, value], "rows": rows, "values": [value]})
    return out


def _merge(frames: list[dict]) -> list[dict]:
    """Grafana's merge: rows agreeing on every field both have set become one row (found through
    an index on a shared label, so 1,000 models x 11 queries stay linear)."""
    fields: list[str] = []
    values: list[str] = []
    merged: list[dict] = []
    index: dict[tuple, list[int]] = {}
    for f in frames:
        seen = set(fields)  # a row can only join earlier rows on a field they have
        keys = [n for n in f["fields"] if n in seen and n != "Time" and n not in values]
        fields.extend(n for n in f["fields"] if n not in seen)
        values.extend(n for n in f.get("values", []) if n not in values)
        for row in f["rows"]:
            probe = next(((k, row[k]) for k in keys if row.get(k) is not None), None)
            labelled = any(k != "Time" and k not in values for k in row)
            # no shared label: a row of labels of its own stays apart, a bare value joins the first row
            candidates = index.get(probe, []) if probe else ([] if labelled else range(len(merged)))
            target = next((i for i in candidates
                           if all(merged[i].get(k) in (None, v) for k, v in row.items() if v is not None)), None)
            if target is None:
                merged.append({})
                target = len(merged) - 1
            for k, v in row.items():
                if v is not None:
                    merged[target][k] = v
                    if k != "Time" and k not in values:
                        index.setdefault((k, v), [])
                        if target not in index[(k, v)]:
                            index[(k, v)].append(target)
    return [{"fields": fields, "rows": merged, "values": values}]


def _organize(frames: list[dict], options: dict) -> list[dict]:
    exclude = {k for k, v in (options.get("excludeByName") or {}).items() if v}
    order = options.get("indexByName") or {}
    out = []
    for f in frames:
        kept = [n for n in f["fields"] if n not in exclude]
        if order:  # Grafana: listed fields by their index, unlisted ones after, in their order
            kept = sorted(kept, key=lambda n: (0, order[n]) if n in order else (1, kept.index(n)))
        out.append({**f, "fields": kept, "rename": {**f.get("rename", {}), **(options.get("renameByName") or {})}})
    return out


def table_model(frame: dict, transformations: list[dict] | None) -> dict:
    """``{"tables": [{"columns": [{"name", "displayName", "value"}], "rows": [[cell]]}], "notes"}``."""
    frames = query_frames(frame)
    notes = []
    for t in transformations or []:
        if t.get("disabled"):
            continue
        kind = t.get("id")
        if kind == "merge":
            frames = _merge(frames)
        elif kind == "organize":
            frames = _organize(frames, t.get("options") or {})
        else:
            notes.append(f"transformation {kind} not drawn")
    tables = []
    for f in frames:
        rename = f.get("rename", {})
        columns = [{"name": n, "displayName": rename.get(n) or n, "value": n in f.get("values", [])}
                   for n in f["fields"]]
        rows = [[_utc(row.get(c["name"])) if c["name"] == "Time" else row.get(c["name"]) for c in columns]
                for row in f["rows"]]
        tables.append({"columns": columns, "rows": rows})
    return {"tables": tables, "notes": notes}
