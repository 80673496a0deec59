"""Rendered dashboards: official schemas, lint, determinism, and no outdated metric names."""
from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from importlib import resources

import jsonschema
import pytest

from modeldash.dashboards.build import build_dashboards
from modeldash.scripts.lint import lint_dashboard, lint_dashboards

FORBIDDEN = [
    "kube_hpa_",
    "kube_pod_container_resource_limits_cpu_cores",
    "kube_pod_container_resource_limits_memory_bytes",
    "container_memory_usage_bytes",
    'response_code!~"2.."',
]


def schema(name):
    return json.loads(resources.files("modeldash").joinpath(f"schemas/grafana/{name}.jsonschema.json").read_text())


def boards(out):
    return {p.name: json.loads(p.read_text()) for p in sorted((out / "dashboards").rglob("*.json"))}


def test_one_dashboard_per_model_plus_fleet_platform_infrastructure(rendered, example_spec):
    names = set(boards(rendered))
    expected = {f"md-model-{m.name}.json" for m in example_spec.models} | {
        "md-fleet.json", "md-platform.json", "md-infrastructure.json"}
    assert names == expected
    assert all(p.parent.name == "ml-models" for p in (rendered / "dashboards").rglob("*.json"))


# Grafana ships no panelcfg.cue for these: their option keys are those of the plugin's TS types.
PANELS_WITHOUT_PUBLISHED_SCHEMA = {"alertlist": {
    "maxItems", "sortOrder", "dashboardAlerts", "groupMode", "groupBy", "alertName", "showInstances", "folder",
    "stateFilter", "alertInstanceLabelFilter", "datasource", "viewMode", "showInactiveAlerts", "statColorMode",
    "statThresholds", "statValueMappings"}}


def test_every_dashboard_validates_against_official_schemas(rendered):
    validator = jsonschema.Draft7Validator(schema("dashboard"))
    for name, board in boards(rendered).items():
        errors = [e.message for e in validator.iter_errors(board)]
        assert not errors, (name, errors[:3])
        for panel in board["panels"]:
            if panel["type"] == "row":
                continue
            if panel["type"] in PANELS_WITHOUT_PUBLISHED_SCHEMA:
                assert set(panel["options"]) <= PANELS_WITHOUT_PUBLISHED_SCHEMA[panel["type"]], panel["title"]
                continue
            plugin = schema(panel["type"])
            defs = plugin["definitions"]
            opts = jsonschema.Draft7Validator({**plugin, "$ref": "#/definitions/Options"})
            assert not list(opts.iter_errors(panel.get("options", {}))), (name, panel["title"])
            if "FieldConfig" in defs and "custom" in panel.get("fieldConfig", {}).get("defaults", {}):
                fc = jsonschema.Draft7Validator({**plugin, "$ref": "#/definitions/FieldConfig"})
                assert not list(fc.iter_errors(panel["fieldConfig"]["defaults"]["custom"])), (name, panel["title"])


def test_current_model_no_nulls_no_legacy(rendered):
    for name, board in boards(rendered).items():
        assert board["schemaVersion"] >= 39
        text = json.dumps(board)
        # the only null allowed is a threshold base step (Grafana's -Infinity)
        assert text.count("null") == text.count('"value": null'), name
        for key in ('"rows"', '"span"', '"sharedCrosshair"', '"hideControls"'):
            assert key not in text, (name, key)
        for p in board["panels"]:
            if p["type"] not in ("row", "text"):
                assert p["datasource"] == {"type": "prometheus", "uid": "${datasource}"}


def test_lint_passes_on_render(cli, rendered):
    result = cli("lint", rendered)
    assert result.exit_code == 0, result.output
    assert "no problems" in result.output


def test_render_is_byte_identical(cli, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert cli("render", "-o", a).exit_code == 0
    assert cli("render", "-o", b).exit_code == 0
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert files_a == files_b and files_a
    for rel in files_a:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
        assert (a / rel).read_bytes().endswith(b"\n")


def test_json_style_sorted_two_space(rendered):
    path = next((rendered / "dashboards").rglob("md-fleet.json"))
    text = path.read_text()
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_forbidden_outdated_names_never_rendered(rendered):
    for path in rendered.rglob("*"):
        if path.is_file():
            text = path.read_text()
            for bad in FORBIDDEN:
                assert bad not in text, (path, bad)


def test_knative_millisecond_latency_shown_and_compared_in_seconds(example_spec):
    seen = 0
    for board in build_dashboards(example_spec):
        for p in board.json["panels"]:
            for t in p.get("targets", []):
                if "revision_request_latencies" in t["expr"] and board.kind == "model":
                    seen += 1
                    assert t["expr"].endswith(" * 0.001")  # the histogram is in ms
                    assert p["fieldConfig"]["defaults"]["unit"] == "s"
                    values = [s["value"] for s in p["fieldConfig"]["defaults"]["thresholds"]["steps"][1:]]
                    assert values == [0.5, 1.0]
    assert seen == 3  # p50, p95, p99 of fraud-detector


def test_model_dashboard_rows_links_tags(example_spec):
    by_uid = {b.uid: b for b in build_dashboards(example_spec)}
    fraud = by_uid["md-model-fraud-detector"].json
    rows = [p["title"] for p in fraud["panels"] if p["type"] == "row"]
    assert [r.split(" ")[0] for r in rows] == ["Status", "Serving", "Model", "Workload", "Objectives"]
    urls = [link["url"] for link in fraud["links"]]
    assert "/d/md-fleet" in urls and "https://runbooks.example.com/ml/fraud-detector" in urls
    assert {"modeldash", "model:fraud-detector", "layer:serving"} <= set(fraud["tags"])
    assert [v["name"] for v in fraud["templating"]["list"]] == ["datasource"]
    fleet = by_uid["md-fleet"].json
    assert "/d/md-model-${__data.fields.model}" in json.dumps(fleet)  # every row (tests/test_fleet_dashboard.py)
    assert [v["name"] for v in by_uid["md-platform"].json["templating"]["list"]] == ["datasource", "namespace"]
    assert [v["name"] for v in by_uid["md-infrastructure"].json["templating"]["list"]] == ["datasource", "instance"]
    for b in by_uid.values():
        assert re.fullmatch(r"[a-z0-9-]{1,40}", b.uid) and not b.uid.endswith("-")


def test_panel_ids_match_alert_link_keys(example_spec):
    from modeldash.dashboards.panel_keys import panel_link

    fraud = next(b for b in build_dashboards(example_spec) if b.uid == "md-model-fraud-detector").json
    uid, pid = panel_link("model", "serving.latency", "fraud-detector")
    assert uid == fraud["uid"]
    assert next(p for p in fraud["panels"] if p["id"] == pid)["title"].startswith("Latency")


# ---------------------------------------------------------------- lint catches what it must


@pytest.fixture
def good_board(example_spec):
    return copy.deepcopy(next(b for b in build_dashboards(example_spec) if b.kind == "model").json)


def first_ts(board):
    return next(p for p in board["panels"] if p["type"] == "timeseries")


@pytest.mark.parametrize("breakage,expected", [
    (lambda b: first_ts(b).__setitem__("id", b["panels"][0]["id"]), "also used by"),
    (lambda b: first_ts(b)["gridPos"].update(y=0, x=0), "overlaps"),
    (lambda b: first_ts(b)["targets"][0].__setitem__("expr", "sum(rate(x[5m])"), "does not parse"),
    (lambda b: first_ts(b).__setitem__("datasource", "Prometheus"), "bare string"),
    (lambda b: first_ts(b)["targets"][0].__setitem__("datasource", {"type": "prometheus", "uid": "nope"}), "resolves to no"),
    (lambda b: first_ts(b)["targets"][0].__setitem__("expr", 'up{pod=~"$pod"}'), "undefined variable $pod"),
    (lambda b: b.__setitem__("uid", "x" * 41), "uid"),
    (lambda b: b.__setitem__("schemaVersion", 12), "older than 39"),
    (lambda b: first_ts(b).__setitem__("span", 6), "schema"),
    (lambda b: first_ts(b)["options"]["legend"].__setitem__("displayMode", "fancy"), "options schema"),
    (lambda b: first_ts(b)["fieldConfig"]["defaults"]["custom"].__setitem__("drawStyle", "dots"), "custom schema"),
])
def test_lint_finds_each_problem(good_board, breakage, expected):
    assert lint_dashboard(good_board, ["prometheus"]) == []
    breakage(good_board)
    problems = lint_dashboard(good_board, ["prometheus"])
    assert any(expected in p.reason for p in problems), problems


def test_lint_cli_reports_problems_and_exits_1(cli, rendered, tmp_path):
    import shutil

    out = tmp_path / "broken"
    shutil.copytree(rendered, out)
    path = next((out / "dashboards").rglob("md-fleet.json"))
    board = json.loads(path.read_text())
    board["panels"][1]["targets"][0]["expr"] = "rate(("
    path.write_text(json.dumps(board))
    result = cli("lint", out)
    assert result.exit_code == 1
    assert "md-fleet / panel Top 10: p95 latency vs threshold: query A does not parse" in result.output


def test_duplicate_dashboard_uids(good_board):
    problems = lint_dashboards([good_board, copy.deepcopy(good_board)], ["prometheus"])
    assert any("uid also used" in p.reason for p in problems)


def test_installed_entry_point_runs():
    result = subprocess.run([sys.executable, "-m", "modeldash", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "Examples:" in result.stdout


def test_render_refuses_to_replace_a_foreign_folder(cli, tmp_path):
    precious = tmp_path / "project"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    result = cli("render", "-o", precious)
    assert result.exit_code == 2 and "not a modeldash output folder" in result.output
    assert (precious / "notes.txt").read_text() == "keep me"


def test_render_replaces_its_own_output(cli, tmp_path):
    out = tmp_path / "out"
    assert cli("render", "-o", out).exit_code == 0
    (out / "dashboards" / "stale.json").write_text("{}")
    assert cli("render", "-o", out).exit_code == 0
    assert not (out / "dashboards" / "stale.json").exists()
