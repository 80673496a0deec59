"""The fleet overview: one row per model with a working link, top-10 panels, filters, constant size."""
from __future__ import annotations

import re

import promql_parser
import pytest

from modeldash.alerts.build import recording_rules
from modeldash.dashboards.build import build_dashboards
from modeldash.datasources import fleet_signals as fs
from modeldash.scripts.live_lint import iter_panels
from modeldash.spec.fleet import bundled_example, load_spec, load_spec_data

BACKENDS = ["knative-legacy", "knative", "kserve", "istio"]


def fleet(n: int):
    models = []
    for i in range(n):
        m = {"name": f"m-{i:03d}", "namespace": f"ns-{i % 3}", "backend": BACKENDS[i % 4], "owner_team": f"t{i % 2}",
             "features": ["a", {"name": "b", "threshold": 0.1}], "ground_truth": i % 2 == 0}
        if i % 3 == 2:
            m["task"] = "regression"
        else:
            m.update(task="classification", classes={"x": 0.5, "y": 0.5})
        models.append(m)
    return load_spec_data({"name": "f", "models": models})


def _board(spec):
    boards = build_dashboards(spec)
    return next(b.json for b in boards if b.kind == "fleet"), {b.uid for b in boards}


def _link_uid(url: str, model: str) -> str:
    url = url.replace("${__data.fields.model}", model).replace("${__field.labels.model}", model)
    m = re.fullmatch(r"/d/([a-z0-9-]+)\?\$\{__url_time_range\}", url)
    assert m, url
    return m.group(1)


@pytest.mark.parametrize("spec", [load_spec(bundled_example()), fleet(24)], ids=["example", "24-models"])
def test_every_row_links_to_its_model_dashboard(spec):
    board, uids = _board(spec)
    (table,) = [p for p in board["panels"] if p["type"] == "table"]
    rows = [r.labels["model"] for r in recording_rules(spec) if r.record == fs.INFO]
    assert sorted(rows) == sorted(m.name for m in spec.models)  # one info series, so one row, per model
    links = table["fieldConfig"]["defaults"]["links"]  # on every cell of every row
    assert links and all("${__data.fields.model}" in link["url"] for link in links)
    for model in rows:
        for link in links:
            uid = _link_uid(link["url"], model)
            assert uid in uids and uid == next(m.dashboard_uid for m in spec.models if m.name == model)
    for gauge in (p for p in board["panels"] if p["type"] == "bargauge"):
        (link,) = gauge["fieldConfig"]["defaults"]["links"]
        assert all(_link_uid(link["url"], m) in uids for m in rows)


def test_table_columns_and_sorting():
    board, _ = _board(fleet(8))
    (table,) = [p for p in board["panels"] if p["type"] == "table"]
    names = table["transformations"][1]["options"]["renameByName"]
    assert list(names.values()) == ["Model", "Team", "Namespace", "Backend", "Requests/s", "p95 (s)",
                                    "p95 / threshold", "5xx (%)", "5xx / threshold", "Worst drift",
                                    "Drift / threshold", "Accuracy or RMSE", "Quality / threshold", "Firing alerts"]
    assert all(t.get("format") == "table" and t.get("instant") for t in table["targets"])
    assert table["options"]["sortBy"] == [{"displayName": "Firing alerts", "desc": True}]
    coloured = {n for o in table["fieldConfig"]["overrides"] for n in o["matcher"]["options"]["names"]}
    assert coloured == {"p95 / threshold", "5xx / threshold", "Drift / threshold", "Quality / threshold",
                        "Firing alerts"}


def test_filters_top10_alerts_and_no_line_per_model():
    board, _ = _board(fleet(8))
    assert [v["name"] for v in board["templating"]["list"]] == ["datasource", "team", "namespace", "backend"]
    types = [p["type"] for p in iter_panels(board["panels"])]
    assert "timeseries" not in types and types.count("bargauge") == 3 and "alertlist" in types
    (alerts,) = [p for p in board["panels"] if p["type"] == "alertlist"]
    assert alerts["options"]["alertInstanceLabelFilter"] == '{managed_by="modeldash"}'
    for p in board["panels"]:
        for t in p.get("targets", []):
            promql_parser.parse(re.sub(r"\$(\w+)", r"\1", t["expr"]))
            if t["refId"] != "A" or p["type"] != "table":
                assert 'model:info{backend=~"$backend", namespace=~"$namespace", team=~"$team"}' in t["expr"]
        if p["type"] == "bargauge":
            assert p["targets"][0]["expr"].startswith("topk(10, ")


def test_fleet_queries_do_not_grow_with_the_fleet():
    small, _ = _board(fleet(4))
    big, _ = _board(fleet(40))
    exprs = lambda b: [t["expr"] for p in b["panels"] for t in p.get("targets", [])]  # noqa: E731
    assert exprs(small) == exprs(big)
    assert all("m-0" not in e for e in exprs(big))
