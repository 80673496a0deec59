"""The pure parts of the preview: Grafana's interval arithmetic, frames, grid, page, option checks."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from modeldash.preview.frames import build_frame, matrix_series, series_name
from modeldash.preview.grid import grid_height, panel_box, visible_panels
from modeldash.preview.page import build_page, page_height
from modeldash.preview.timerange import RangeError, panel_timing, parse_duration, parse_from, round_interval_ms
from modeldash.scripts.cli import main
from modeldash.scripts.errors import BadInput
from modeldash.scripts.live_stack import parse_listen
from modeldash.scripts.preview import changed_dashboards, file_stem


@pytest.mark.parametrize("ms,rounded", [(4500, 5000), (14999, 15000), (20000, 20000), (61000, 60000), (100, 100)])
def test_round_interval_follows_grafana(ms, rounded):
    assert round_interval_ms(ms) == rounded


def test_one_hour_at_15s_scrape_gives_grafanas_macros():
    # 3600 s over an 800 px panel: 4.5 s -> rounded 5 s -> raised to the 15 s scrape interval.
    t = panel_timing(1000.0, 4600.0, 800, 15)
    assert t.step == 15 and t.macros["__interval"] == "15s" and t.macros["__interval_ms"] == "15000"
    assert t.macros["__rate_interval"] == "60s"  # max(15 + 15, 4 * 15)
    assert (t.macros["__range"], t.macros["__range_s"], t.macros["__range_ms"]) == ("3600s", "3600", "3600000")
    assert t.start % 15 == 0 and t.end % 15 == 0 and t.start <= 1000 and t.end <= 4600


def test_long_range_on_a_narrow_panel_widens_the_step_and_rate_interval():
    t = panel_timing(0, 7 * 86400, 200, 15)  # 3024 s -> rounded 1 h
    assert t.step == 3600 and t.macros["__rate_interval"] == "3615s"
    assert panel_timing(0, 30 * 86400, 100000, 1).step == 236  # never more than 11,000 points


def test_durations_and_relative_times():
    assert parse_duration("250ms") == 0.25 and parse_duration("1m") == 60
    assert parse_from("-1h") == parse_from("now-1h") == parse_from("1h") == 3600
    for bad in ("1 hour", "-1x", "now+1h", ""):
        with pytest.raises(RangeError):
            parse_from(bad)
    with pytest.raises(RangeError):
        panel_timing(10, 10, 100, 1)


def test_series_names_follow_legend_format():
    assert series_name({"model": "a", "pod": "p"}, "{{model}} / {{ pod }}", "x") == "a / p"
    assert series_name({"__name__": "up", "job": "j"}, "", "up") == 'up{job="j"}'
    assert series_name({}, "__auto", "vector(1)") == "vector(1)"


def test_frames_share_one_axis_and_keep_gaps():
    a = matrix_series([{"metric": {"k": "a"}, "values": [[10, "1"], [12, "NaN"]]}], "{{k}}", "e", "A")
    b = matrix_series([{"metric": {"k": "b"}, "values": [[11, "2"], [12, "3"]]}], "{{k}}", "e", "B")
    f = build_frame(a + b, 10, 12, 1)
    assert f["x"] == [10, 11, 12]
    assert [s["values"] for s in f["series"]] == [[1.0, None, None], [None, 2.0, 3.0]]


def test_grid_boxes_and_collapsed_rows():
    assert panel_box({"x": 12, "y": 1, "w": 12, "h": 8}, 1568) == panel_box({"x": 12, "y": 1, "w": 12, "h": 8}, 1568)
    b = panel_box({"x": 0, "y": 2, "w": 24, "h": 1}, 1568)
    assert (b.left, b.top, b.width, b.height) == (0, 76, 1568, 30)
    panels = [{"type": "row", "collapsed": True, "gridPos": {"x": 0, "y": 0, "w": 24, "h": 1},
               "panels": [{"type": "stat", "gridPos": {"x": 0, "y": 1, "w": 6, "h": 50}}]}]
    assert len(visible_panels(panels)) == 1 and grid_height(panels) == 30


def test_page_embeds_everything_and_escapes_strings():
    board = {"uid": "u", "title": "a</script><b>", "panels": [
        {"id": 1, "type": "text", "gridPos": {"x": 0, "y": 0, "w": 24, "h": 3},
         "options": {"mode": "markdown", "content": "<img src=x onerror=alert(1)> *hi*"}}]}
    html = build_page(board, {"panels": {}})
    assert "<script src" not in html and "uPlot" in html and "http://" not in html.split("uPlot.iife")[0][-2000:]
    data = html.split('id="md-data">', 1)[1].split("</script>", 1)[0]
    assert "</" not in data and "<img" not in data
    doc = json.loads(data)
    assert doc["title"] == "a</script><b>" and "&lt;img" in doc["panels"][0]["html"]
    assert doc["height"] == page_height(board) == 56 + 32 + 3 * 30 + 2 * 8


def test_changed_dashboards_compares_json_not_bytes(tmp_path):
    base = tmp_path / "base" / "dashboards" / "f"
    base.mkdir(parents=True)
    (base / "a.json").write_text(json.dumps({"uid": "a", "v": 1}, indent=4))
    (base / "b.json").write_text(json.dumps({"uid": "b", "v": 1}))
    files = {"dashboards/f/a.json": json.dumps({"v": 1, "uid": "a"}), "dashboards/f/b.json": json.dumps({"uid": "b", "v": 2}),
             "dashboards/f/c.json": json.dumps({"uid": "c"}), "alerts/x.yaml": "x"}
    assert [d["uid"] for d in changed_dashboards(files, tmp_path / "base")] == ["b", "c"]
    with pytest.raises(BadInput):
        changed_dashboards(files, tmp_path / "missing")


def test_file_names_and_listen_addresses_are_checked():
    assert file_stem("../../etc/passwd") == "_.._etc_passwd" and "/" not in file_stem("a/b")
    assert parse_listen("--x", "127.0.0.1:9090") == ("127.0.0.1", 9090)
    assert parse_listen("--x", ":0") == ("127.0.0.1", 0) and parse_listen("--x", "[::1]:80") == ("::1", 80)
    for bad in ("localhost:80", "1.2.3.4:99999", "1.2.3.4:x", "evil;rm:1"):
        with pytest.raises(BadInput):
            parse_listen("--x", bad)


@pytest.mark.parametrize("args,message", [
    (["--from", "yesterday"], "--from"),
    (["--dashboard", "nope"], "--dashboard: no dashboard with uid 'nope'"),
    (["--prometheus", "http://127.0.0.1:1"], "cannot reach Prometheus"),
    (["--simulator-listen", "nohost:1"], "--simulator-listen"),
    (["--changed", "/nonexistent-base"], "--changed"),
])
def test_preview_bad_options_exit_2_with_one_line(args, message, tmp_path):
    result = CliRunner().invoke(main, ["preview", "-o", str(tmp_path / "p"), *args])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "p").exists()


def test_workflow_previews_the_changed_dashboards_of_a_pull_request():
    import yaml

    from conftest import REPO

    wf = yaml.safe_load((REPO / ".github" / "workflows" / "modeldash.yml").read_text())
    job = wf["jobs"]["preview"]
    assert job["if"] == "github.event_name == 'pull_request'" and "bookworm" in job["container"]
    script = "\n".join(s.get("run", "") for s in job["steps"])
    assert "chromium" in script and "prometheus" in script and "modeldash render" in script
    assert 'modeldash preview "$MODELDASH_SPEC" --changed base-out -o preview' in script
    upload = next(s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    assert upload["with"]["path"] == "preview/"


def _status_frame():
    """Three instant table queries like the fleet's Model status panel (A: info labels, B/C: per model)."""
    info = [{"metric": {"model": m, "team": t, "namespace": "ml", "backend": "kserve"}, "value": [100, "1"]}
            for m, t in (("fraud", "risk"), ("churn", "growth"))]
    reqs = [{"metric": {"model": m}, "value": [100, v]} for m, v in (("churn", "2.5"), ("fraud", "7"))]
    alerts = [{"metric": {"model": "fraud"}, "value": [100, "3"]}]
    series = (matrix_series(info, "", "a", "A") + matrix_series(reqs, "", "b", "B")
              + matrix_series(alerts, "", "c", "C"))
    return build_frame(series, 100, 100, 1)


STATUS_TRANSFORMS = [
    {"id": "merge", "options": {}},
    {"id": "organize", "options": {
        "excludeByName": {"Time": True, "Value #A": True},
        "indexByName": {"model": 0, "team": 1, "namespace": 2, "backend": 3, "Value #B": 4, "Value #C": 5},
        "renameByName": {"model": "Model", "team": "Team", "Value #B": "Requests/s", "Value #C": "Firing alerts"}}},
]


def test_table_merge_and_organize_give_one_row_per_model_in_grafanas_order():
    from modeldash.preview.tables import table_model
    model = table_model(_status_frame(), STATUS_TRANSFORMS)
    assert model["notes"] == []
    [table] = model["tables"]
    assert [c["displayName"] for c in table["columns"]] == ["Model", "Team", "namespace", "backend", "Requests/s", "Firing alerts"]
    assert [c["name"] for c in table["columns"]][:2] == ["model", "team"]  # original names kept for links
    assert table["rows"] == [["fraud", "risk", "ml", "kserve", 7.0, 3.0], ["churn", "growth", "ml", "kserve", 2.5, None]]


def test_table_without_transformations_is_one_frame_per_query_and_others_are_named():
    from modeldash.preview.tables import table_model
    model = table_model(_status_frame(), [{"id": "reduce"}, {"id": "merge", "disabled": True}])
    assert model["notes"] == ["transformation reduce not drawn"]
    assert [len(t["rows"]) for t in model["tables"]] == [2, 2, 1]
    assert [c["name"] for c in model["tables"][1]["columns"]] == ["Time", "model", "Value #B"]
    assert model["tables"][1]["rows"][0] == ["1970-01-01 00:01:40", "churn", 2.5]
