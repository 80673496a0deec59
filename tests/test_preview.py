"""``modeldash preview`` in the real browser: Debian's Chromium, a real Prometheus, the simulator.

One simulator + Prometheus and one Chromium for the module (``tests/test_e2e_prometheus.py``
style); every example dashboard is previewed once and the pages are checked in the DOM.
Takes ~30 s, most of it waiting for Prometheus to have data for every panel.
"""
from __future__ import annotations

import base64
import json
import struct
import time
from pathlib import Path

import pytest

from modeldash.alerts.build import prometheus_rules
from modeldash.dashboards.build import build_dashboards
from modeldash.spec.fleet import bundled_example, load_spec
from modeldash.scripts.browser import Chromium
from modeldash.scripts.live_lint import lint_live, substitute_variables
from modeldash.scripts.live_stack import LiveStack, fast_evaluation
from modeldash.scripts.preview import write_previews
from modeldash.scripts.prometheus_client_http import query

# Grafana's grid, restated here so the test does not trust the code it checks.
ROW, GAP, WIDTH, HEADER, PAD = 30, 8, 1600, 56, 16
NAMED = {"green": "#73BF69", "red": "#F2495C", "orange": "#FF9830"}


def expected_box(gp: dict) -> dict:
    col = (WIDTH - 2 * PAD - 23 * GAP) / 24
    return {"left": gp["x"] * (col + GAP), "top": gp["y"] * (ROW + GAP),
            "width": gp["w"] * col + (gp["w"] - 1) * GAP, "height": gp["h"] * ROW + (gp["h"] - 1) * GAP}


def expected_height(board: dict) -> int:
    bottom = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in board["panels"])
    return HEADER + 2 * PAD + bottom * (ROW + GAP) - GAP


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def spec():
    return load_spec(bundled_example())


@pytest.fixture(scope="module")
def boards(spec):
    return [d.json for d in build_dashboards(spec)]


@pytest.fixture(scope="module")
def stack(spec, boards):
    with LiveStack(spec, fast_evaluation(prometheus_rules(spec))) as live:
        live.wait_scraped()
        deadline = time.monotonic() + 40
        while lint_live(boards, live.url, macros={"__rate_interval": "4s"}) and time.monotonic() < deadline:
            time.sleep(1)
        time.sleep(5)  # a few points on every line, recording rules evaluated past the range's end
        yield live


@pytest.fixture(scope="module")
def browser():
    with Chromium() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def page(browser):
    p = browser.page()
    yield p
    p.close()


@pytest.fixture(scope="module")
def previews(stack, browser, boards, tmp_path_factory):
    out = tmp_path_factory.mktemp("preview")
    end = time.time()
    start = max(stack.started_at + 5, end - 3600)
    return write_previews(boards, stack.url, out, start, end, 1.0, browser=browser), start, end


def panels_in_dom(page) -> list[dict]:
    return page.evaluate("""(() => {
      const grid = document.querySelector('.md-grid').getBoundingClientRect();
      return [...document.querySelectorAll('.md-panel')].map(d => {
        const r = d.getBoundingClientRect();
        return {id: Number(d.dataset.panelId), type: d.dataset.type, state: d.dataset.state,
                left: r.left - grid.left, top: r.top - grid.top, width: r.width, height: r.height,
                text: d.innerText, thresholds: JSON.parse(d.dataset.thresholds || '[]'),
                colors: JSON.parse(d.dataset.colors || '[]'), scale: JSON.parse(d.dataset.scale || 'null'),
                stat: [...d.querySelectorAll('.md-stat-value')].map(v => ({text: v.textContent, value: v.dataset.value,
                        color: getComputedStyle(v).color}))};
      });
    })()""")


def pixels_js(panel_id: int, colors: list[str], row: int | None = None, tol: int = 10) -> str:
    """JS counting canvas pixels of a panel near one of ``colors`` (in one pixel row if given)."""
    return f"""(() => {{
      const c = document.querySelector('.md-panel[data-panel-id="{panel_id}"] canvas');
      const want = {json.dumps(colors)}.map(h => [1, 3, 5].map(i => parseInt(h.slice(i, i + 2), 16)));
      const y0 = {row if row is not None else 0}, h = {1 if row is not None else 'c.height'};
      const d = c.getContext('2d').getImageData(0, y0, c.width, h).data;
      let n = 0;
      for (let k = 0; k < d.length; k += 4) {{
        if (d[k + 3] < 200) continue;
        if (want.some(w => Math.abs(w[0] - d[k]) <= {tol} && Math.abs(w[1] - d[k + 1]) <= {tol} && Math.abs(w[2] - d[k + 2]) <= {tol})) n++;
      }}
      return n;
    }})()"""


def test_every_example_dashboard_previews_where_grafana_puts_its_panels(previews, boards, page):
    written, _, _ = previews
    assert sorted(p.uid for p in written) == sorted(b["uid"] for b in boards)
    for board, preview in zip(boards, written):
        assert preview.html.stat().st_size > 50_000 and "<script src" not in preview.html.read_text()
        page.open(preview.html, WIDTH, preview.height)
        dom = {p["id"]: p for p in panels_in_dom(page)}
        assert set(dom) == {p["id"] for p in board["panels"]}
        for panel in board["panels"]:
            got, want = dom[panel["id"]], expected_box(panel["gridPos"])
            for k, v in want.items():
                assert abs(got[k] - v) < 1, (board["uid"], panel["title"], k, got[k], v)
            assert got["state"] == "ok", (board["uid"], panel["title"], got["text"])
            if panel["type"] == "timeseries":
                drawn = page.evaluate(pixels_js(panel["id"], got["colors"]))
                assert drawn > 20, (board["uid"], panel["title"], drawn)
        assert page.evaluate("document.documentElement.scrollHeight") == preview.height


def test_threshold_lines_sit_at_the_spec_values(previews, boards, page, spec):
    written, _, _ = previews
    # the latency chart of a model on a seconds histogram: its p95 lines are the model's spec levels
    model = next(m for m in spec.models if spec.backend_for(m).latency_unit == "s")
    preview = next(p for p in written if p.uid == model.dashboard_uid)
    page.open(preview.html, WIDTH, preview.height)
    board = next(b for b in boards if b["uid"] == model.dashboard_uid)
    latency = next(p for p in board["panels"] if p["title"] == "Latency p50 / p95 / p99")
    dom = next(p for p in panels_in_dom(page) if p["id"] == latency["id"])
    levels = model.thresholds.latency_p95
    s = dom["scale"]
    for value, colour in ((levels.warning, "orange"), (levels.critical, "red")):
        y = s["top"] + (s["max"] - value) / (s["max"] - s["min"]) * s["height"]
        hits = sum(page.evaluate(pixels_js(latency["id"], [NAMED[colour]], row=round(y) + dy)) for dy in (-1, 0, 1))
        assert hits > 50, (value, colour, y, dom["scale"])
        # and nowhere else: the row half-way between the two lines has none of that colour
    mid = s["top"] + (s["max"] - (levels.warning + levels.critical) / 2) / (s["max"] - s["min"]) * s["height"]
    assert page.evaluate(pixels_js(latency["id"], [NAMED["red"], NAMED["orange"]], row=round(mid))) == 0


def test_stat_shows_the_value_the_query_returned(previews, boards, page, stack):
    written, _, end = previews
    platform = next(p for p in written if p.uid == "md-platform")
    page.open(platform.html, WIDTH, platform.height)
    board = next(b for b in boards if b["uid"] == "md-platform")
    dom = {p["id"]: p for p in panels_in_dom(page)}
    stats = [p for p in board["panels"] if p["type"] == "stat"]
    assert stats
    for panel in stats:
        expr = substitute_variables(panel["targets"][0]["expr"], {"namespace": ".*"})
        result = query(stack.url, expr, time=int(end))["result"]
        want = float(result[0]["value"][1])
        shown = dom[panel["id"]]["stat"]
        assert len(shown) == 1 and float(shown[0]["value"]) == want and shown[0]["text"] == f"{want:g}"


def test_fleet_status_table_is_merged_organized_and_links_resolved(previews, boards, page, spec):
    written, _, _ = previews
    fleet = next(p for p in written if p.uid == "md-fleet")
    page.open(fleet.html, WIDTH, fleet.height)
    board = next(b for b in boards if b["uid"] == "md-fleet")
    panel = next(p for p in board["panels"] if p["type"] == "table" and p["title"] == "Model status")
    organize = next(t for t in panel["transformations"] if t["id"] == "organize")["options"]
    shown = [n for n, _ in sorted(organize["indexByName"].items(), key=lambda kv: kv[1])
             if not organize["excludeByName"].get(n)]
    sel = f'.md-panel[data-panel-id="{panel["id"]}"]'
    heads = page.evaluate(f"[...document.querySelectorAll('{sel} th')].map(th => th.textContent)")
    assert heads == [organize["renameByName"].get(n, n) for n in shown]
    rows = page.evaluate(f"[...document.querySelectorAll('{sel} tr')].slice(1).map(tr => "
                         "[tr.cells[0].firstChild.textContent, tr.cells[0].querySelector('.md-link-url').textContent])")
    assert sorted(m for m, _ in rows) == sorted(m.name for m in spec.models)  # one row per model
    assert all(url.startswith(f"/d/md-model-{m}?") for m, url in rows), rows


EDGE = {
    "uid": "md-preview-edge", "title": "</script><img src=x onerror=alert(1)> edge cases", "templating": {"list": []},
    "panels": [
        {"id": 1, "type": "timeseries", "title": "threshold at 10", "gridPos": {"x": 0, "y": 0, "w": 12, "h": 8},
         "fieldConfig": {"defaults": {"unit": "short", "custom": {"thresholdsStyle": {"mode": "line"}},
                                      "thresholds": {"mode": "absolute", "steps": [{"color": "green", "value": None},
                                                                                   {"color": "red", "value": 10}]}},
                         "overrides": []},
         "options": {"legend": {"showLegend": True, "displayMode": "table", "placement": "bottom", "calcs": ["max"]}},
         "targets": [{"expr": "vector(4)", "refId": "A", "legendFormat": "four"}]},
        {"id": 2, "type": "stat", "title": "answer", "gridPos": {"x": 12, "y": 0, "w": 6, "h": 4},
         "fieldConfig": {"defaults": {"thresholds": {"mode": "absolute", "steps": [
             {"color": "green", "value": None}, {"color": "red", "value": 40}]}}, "overrides": []},
         "options": {"colorMode": "value", "reduceOptions": {"calcs": ["lastNotNull"]}},
         "targets": [{"expr": "vector(42.5)", "refId": "A"}]},
        {"id": 3, "type": "timeseries", "title": "empty", "gridPos": {"x": 18, "y": 0, "w": 6, "h": 4},
         "targets": [{"expr": 'up{job="no-such-job"}', "refId": "A"}]},
        {"id": 4, "type": "timeseries", "title": "broken", "gridPos": {"x": 12, "y": 4, "w": 6, "h": 4},
         "targets": [{"expr": "sum(rate(up[5m])", "refId": "A"}]},
        {"id": 5, "type": "piechart", "title": "pie", "gridPos": {"x": 18, "y": 4, "w": 6, "h": 4},
         "targets": [{"expr": "up", "refId": "A"}]},
        {"id": 6, "type": "row", "title": "more", "collapsed": False, "gridPos": {"x": 0, "y": 8, "w": 24, "h": 1}, "panels": []},
        {"id": 7, "type": "bargauge", "title": "targets up", "gridPos": {"x": 0, "y": 9, "w": 8, "h": 6},
         "fieldConfig": {"defaults": {"min": 0, "max": 2}, "overrides": []},
         "targets": [{"expr": 'up{job="kube-state-metrics"} + 0', "refId": "A", "legendFormat": "{{job}}"}]},
        {"id": 8, "type": "table", "title": "table", "gridPos": {"x": 8, "y": 9, "w": 8, "h": 6},
         "fieldConfig": {"defaults": {"custom": {"cellOptions": {"type": "color-background"}},
                                      "thresholds": {"mode": "absolute", "steps": [{"color": "red", "value": None},
                                                                                   {"color": "green", "value": 1}]},
                                      "links": [{"title": "open", "url": "/d/x?instance=${__field.labels.instance}"}]},
                         "overrides": []},
         "targets": [{"expr": 'up{job="kube-state-metrics"}', "refId": "A", "instant": True}]},
        {"id": 9, "type": "text", "title": "notes", "gridPos": {"x": 16, "y": 9, "w": 8, "h": 6},
         "options": {"mode": "markdown", "content": "**bold** <script>window.pwned = 1</script> [x](javascript:alert(1))"}},
    ],
}


def test_edge_cases_no_data_errors_placeholders_and_hostile_text(stack, browser, page, tmp_path):
    end = time.time()
    [pv] = write_previews([EDGE], stack.url, tmp_path, end - 60, end, 1.0, browser=browser)
    page.open(pv.html, WIDTH, pv.height)
    dom = {p["id"]: p for p in panels_in_dom(page)}
    assert dom[3]["state"] == "nodata" and "No data" in dom[3]["text"]
    assert dom[4]["state"] == "error" and "parse error" in dom[4]["text"]
    assert dom[5]["state"] == "unsupported" and "piechart" in dom[5]["text"]
    stat = dom[2]["stat"][0]
    assert stat["text"] == "42.5" and stat["color"] == "rgb(242, 73, 92)"  # red: above the 40 step
    s = dom[1]["scale"]
    y = s["top"] + (s["max"] - 10) / (s["max"] - s["min"]) * s["height"]
    assert page.evaluate(pixels_js(1, [NAMED["red"]], row=round(y))) > 0.9 * s["width"]  # solid line
    legend = page.evaluate("[...document.querySelectorAll('.md-panel[data-panel-id=\"1\"] .md-legend tr')].map(r => r.innerText)")
    assert [r.split() for r in legend] == [["Name", "Max"], ["four", "4"]]
    assert "kube-state-metrics" in dom[7]["text"] and "1" in dom[7]["text"]
    cells = page.evaluate("[...document.querySelectorAll('.md-panel[data-panel-id=\"8\"] td[data-color]')]"
                          ".map(td => [td.dataset.color, td.innerText])")
    assert cells and all(c == NAMED["green"] and "instance=kube-state-metrics:8080" in t for c, t in cells)
    assert "bold" in dom[9]["text"] and "<script>" in dom[9]["text"]  # raw HTML shown as text
    assert page.evaluate("document.querySelectorAll('img, a[href^=\"javascript\"]').length + (window.pwned || 0)") == 0
    assert page.evaluate("document.title").startswith("</script><img")


def test_png_is_non_blank_deterministic_and_as_tall_as_the_dashboard(previews, boards, page):
    written, _, _ = previews
    heights = {}
    for board, pv in zip(boards, written):
        data = pv.png.read_bytes()
        assert png_size(data) == (WIDTH, expected_height(board)), board["uid"]
        heights[board["uid"]] = png_size(data)[1]
    assert heights["md-model-fraud-detector"] > heights["md-platform"] > heights["md-fleet"]
    fleet = next(p for p in written if p.uid == "md-fleet")
    b64 = base64.b64encode(fleet.png.read_bytes()).decode()
    colours = page.evaluate(f"""new Promise(done => {{
      const img = new Image();
      img.onload = () => {{
        const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
        const x = c.getContext('2d'); x.drawImage(img, 0, 0);
        const d = x.getImageData(0, 0, c.width, c.height).data, seen = new Set();
        for (let k = 0; k < d.length; k += 4) seen.add((d[k] << 16) | (d[k + 1] << 8) | d[k + 2]);
        done(seen.size);
      }};
      img.src = 'data:image/png;base64,{b64}';
    }})""", await_promise=True)
    assert colours > 50
    page.open(fleet.html, WIDTH, fleet.height)
    assert page.screenshot() == fleet.png.read_bytes()  # same data, same picture


def test_cli_previews_only_the_changed_dashboards(stack, tmp_path):
    from click.testing import CliRunner

    from modeldash.scripts.cli import main

    runner = CliRunner()
    base = tmp_path / "base"
    assert runner.invoke(main, ["render", "-o", str(base)]).exit_code == 0
    fleet_json = next(base.rglob("md-fleet.json"))
    board = json.loads(fleet_json.read_text())
    board["panels"][1]["gridPos"]["w"] = 6  # what a pull request changed
    fleet_json.write_text(json.dumps(board))
    out = tmp_path / "pv"
    args = ["preview", "--prometheus", stack.url, "--from", "-2m", "--scrape-interval", "1s", "-o", str(out)]
    result = runner.invoke(main, [*args, "--changed", str(base)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["md-fleet.html", "md-fleet.png"], result.output
    assert all(p.stat().st_mode & 0o044 for p in out.iterdir())  # readable by others (umask 022), not mkstemp's 0600
    assert "preview: 1 dashboards" in result.output
    assert runner.invoke(main, ["render", "-o", str(base)]).exit_code == 0
    same = runner.invoke(main, [*args, "--changed", str(base)])
    assert same.exit_code == 0 and "none changed" in same.output
    no_browser = runner.invoke(main, [*args, "--chromium", str(tmp_path / "no-chromium"), "-o", str(tmp_path / "x")])
    assert no_browser.exit_code == 2 and "--chromium:" in no_browser.output and "not found" in no_browser.output
