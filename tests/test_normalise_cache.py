"""Panel bodies normalised once per distinct body give what normalising every panel gives."""
from __future__ import annotations

import grafanalib.core as g

import modeldash.dashboards.layout as layout
from modeldash.dashboards.build import build_dashboards
from modeldash.dashboards.normalise import _panel, normalise_dashboard, normalise_panel, to_plain
from modeldash.panels.common import Query, levels, timeseries

DS = {"type": "prometheus", "uid": "${datasource}"}


def test_every_example_panel_as_if_normalised_alone(example_spec, monkeypatch):
    raw_boards = []
    real = layout.normalise_dashboard
    monkeypatch.setattr(layout, "normalise_dashboard", lambda raw, ds: (raw_boards.append(raw), real(raw, ds))[1])
    build_dashboards(example_spec)
    panels = [p for board in raw_boards for p in board.panels]
    assert len(raw_boards) > 5 and len(panels) > 100
    assert {to_plain(p)["type"] for p in panels} >= {"timeseries", "stat", "row", "table"}
    for p in panels:
        assert normalise_panel(p, DS) == _panel(to_plain(p), DS)


def test_same_body_keeps_each_panels_own_values_and_copies():
    def panel(model: str, pid: int):
        ts = timeseries("Rate", "", [Query(f'rate(x{{model="{model}"}}[5m])', "{{pod}}")], "short", levels(1, 2))
        ts.id, ts.gridPos = pid, g.GridPos(h=8, w=12, x=0, y=pid)
        return ts

    a, b = normalise_panel(panel("a", 1), DS), normalise_panel(panel("b", 2), DS)
    assert a["targets"][0]["expr"] == 'rate(x{model="a"}[5m])' and b["targets"][0]["expr"] == 'rate(x{model="b"}[5m])'
    assert (a["id"], a["gridPos"]["y"], b["id"], b["gridPos"]["y"]) == (1, 1, 2, 2)
    assert "description" not in a  # an empty description is dropped, as without the cache
    a["fieldConfig"]["defaults"]["unit"] = "changed"
    assert b["fieldConfig"]["defaults"]["unit"] == "short"  # no dict shared between panels
    assert normalise_panel(panel("b", 2), DS) == b


def test_a_panel_orjson_cannot_write_is_normalised_the_slow_way():
    class Label(str):
        pass

    ts = timeseries(Label("Rate"), "d", [Query("up", "")], "short")
    ts.id, ts.gridPos, ts.unit = 3, g.GridPos(h=8, w=12, x=0, y=0), Label("short")
    assert normalise_panel(ts, DS) == _panel(to_plain(ts), DS)
    assert normalise_dashboard(g.Dashboard(title="t", uid="t", panels=[ts]), DS)["panels"][0]["fieldConfig"][
        "defaults"]["unit"] == "short"
