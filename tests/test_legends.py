"""Every time-series legend is shown, unless the panel records why it is not."""
from __future__ import annotations

import pytest

from modeldash.dashboards.build import build_dashboards
from modeldash.dashboards.normalise import normalise_dashboard
from modeldash.panels.common import LEGEND_HIDDEN_MARK, Query, timeseries
from modeldash.scripts.live_lint import iter_panels
from modeldash.spec.fleet import bundled_example, load_spec

import grafanalib.core as g


def _timeseries(boards):
    for board in boards:
        for panel in iter_panels(board["panels"]):
            if panel.get("type") == "timeseries":
                yield board["uid"], panel


def _hidden_without_reason(boards):
    bad = []
    for uid, panel in _timeseries(boards):
        legend = panel.get("options", {}).get("legend", {})
        shown = legend.get("showLegend") is True and legend.get("displayMode") != "hidden"
        reason = panel.get("description", "").partition(LEGEND_HIDDEN_MARK)[2].strip()
        if not shown and not reason:
            bad.append((uid, panel["title"]))
    return bad


@pytest.fixture(scope="module")
def boards():
    return [d.json for d in build_dashboards(load_spec(bundled_example()))]


def test_every_timeseries_legend_is_a_bottom_table(boards):
    panels = list(_timeseries(boards))
    assert len(panels) >= 40
    assert _hidden_without_reason(boards) == []
    for _, panel in panels:
        legend = panel["options"]["legend"]
        assert (legend["displayMode"], legend["placement"]) == ("table", "bottom"), panel["title"]
        assert {"mean", "max", "lastNotNull"} <= set(legend["calcs"]), panel["title"]


def _board(panel):
    panel.id, panel.gridPos = 1, g.GridPos(h=8, w=12, x=0, y=0)
    return normalise_dashboard(g.Dashboard(title="t", uid="t", panels=[panel]), {"type": "prometheus", "uid": "p"})


def test_check_catches_a_legend_hidden_without_reason():
    board = _board(timeseries("Quiet", "no legend", [Query("up", "{{job}}")], "short"))
    assert _hidden_without_reason([board]) == []
    board["panels"][0]["options"]["legend"]["showLegend"] = False  # what the normaliser used to write
    assert _hidden_without_reason([board]) == [("t", "Quiet")]


def test_hidden_legend_records_its_reason():
    board = _board(timeseries("One line", "desc", [Query("up")], "short", legend_hidden_because="a single line"))
    legend = board["panels"][0]["options"]["legend"]
    assert legend["showLegend"] is False and legend["displayMode"] == "hidden"
    assert board["panels"][0]["description"].endswith(f"{LEGEND_HIDDEN_MARK} a single line")
    assert _hidden_without_reason([board]) == []
