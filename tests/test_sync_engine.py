"""The sync engine against the strict stand-in: first sync, zero-write resync, one model
changed, prune, UI-edit conflicts, the policy tree, and every injected fault."""
from __future__ import annotations

import copy
import time

import niquests
import pytest

import sync_fixtures as fx
from grafana_standin import GrafanaStandin
from modeldash.sync import ownership as ownership
from modeldash.scripts.grafana_http import GrafanaError, GrafanaHTTP, Settings
from modeldash.scripts.sync_engine import run_sync
from modeldash.scripts.sync_report import report_json, report_table

TOKEN = "standin-admin-token-0123456789"
FLEET = "test-fleet"


@pytest.fixture
def g():
    with GrafanaStandin() as server:
        yield server
        assert server.errors == []


def http(g, **kw) -> GrafanaHTTP:
    kw.setdefault("backoff", 0.01)
    kw.setdefault("backoff_max", 0.05)
    return GrafanaHTTP(Settings(url=g.url, token=TOKEN, **kw))


def sync(g, desired, apply=True, reset=True, **kw):
    if reset:
        g.reset_counts()
    opts = {k: kw.pop(k) for k in ("prune", "force", "concurrency") if k in kw}
    return run_sync(http(g, **kw), desired, FLEET, apply_changes=apply, env=fx.SECRETS, **opts)


def raw(g, method, path, body=None, headers=None):
    r = niquests.request(method, g.url + path, json=body, timeout=5,
                         headers={"Authorization": f"Bearer {TOKEN}", **(headers or {})})
    assert r.status_code < 300, r.text
    return r.json() if r.content else None


def results(report):
    return {(a.kind, a.key): a.result for a in report.actions}


def test_first_sync_then_zero_write_resync(g):
    _, desired = fx.desired(3)
    first = sync(g, desired)
    counts = first.count()
    assert counts["created"] == len(desired) == 1 + 2 + 1 + 3 + 3 and counts["failed"] == 0
    assert counts["requests"] == g.total  # the client's count is the server's count
    assert set(g.state.dashboards) == {f"md-model-model-00{i}" for i in range(3)}
    assert len(g.state.rules) == 3
    again = sync(g, desired)
    assert g.writes == [] and again.writes == 0
    assert again.count()["unchanged"] == len(desired)
    assert not again.pending


def test_order_folders_before_dashboards_before_rules(g):
    _, desired = fx.desired(2)
    sync(g, desired, concurrency=4)
    paths = [p for _, p in g.writes]
    first = {kind: next(i for i, p in enumerate(paths) if p.startswith(prefix))
             for kind, prefix in (("folder", "/api/folders"), ("cp", "/api/v1/provisioning/contact-points"),
                                  ("policy", "/api/v1/provisioning/policies"), ("dash", "/api/dashboards"),
                                  ("rules", "/api/v1/provisioning/folder/"))}
    assert first["folder"] < first["cp"] < first["policy"] < first["dash"] < first["rules"]


def test_one_model_changed_writes_only_its_objects(g):
    _, desired = fx.desired(4)
    sync(g, desired)
    _, changed = fx.desired(4, thresholds={"model-002": 0.8})
    report = sync(g, changed)
    assert sorted(g.writes) == [("POST", "/api/dashboards/db"),
                                ("PUT", "/api/v1/provisioning/folder/ml-models/rule-groups/model-002")]
    assert {a.key for a in report.actions if a.result == "updated"} == {"md-model-model-002", "ml-models/model-002"}
    saved = g.state.dashboards["md-model-model-002"]["dashboard"]
    assert saved["panels"][0]["fieldConfig"]["defaults"]["thresholds"]["steps"][1]["value"] == 0.8
    sync(g, changed)
    assert g.writes == []


def test_diff_writes_nothing_and_shows_changes(g):
    _, desired = fx.desired(2)
    sync(g, desired)
    _, changed = fx.desired(2, thresholds={"model-001": 0.7})
    report = sync(g, changed, apply=False)
    assert g.writes == [] and report.pending
    update = [a for a in report.actions if a.op == "update"]
    assert {a.key for a in update} == {"md-model-model-001", "ml-models/model-001"}
    assert all("0.7" in a.diff for a in update)
    assert "md-model-model-001" in report_table(report, FLEET, g.url, show_diffs=True)


def test_prune_deletes_only_managed_objects(g):
    _, desired = fx.desired(3)
    sync(g, desired)
    # Unmanaged neighbours in the same folder: a plain dashboard, one that only carries the
    # tag, a "Save as" copy of a managed dashboard (marker names another uid) and a UI rule.
    plain = fx.dashboard_json("team-board", "Team board", "x")
    tagged = {**fx.dashboard_json("tagged-board", "Tagged board", "x"), "tags": ["modeldash"]}
    copy_of = copy.deepcopy(g.state.dashboards["md-model-model-002"]["dashboard"])
    for k in ("id", "version"):
        copy_of.pop(k)
    copy_of.update(uid="copy-of-002", title="Copy of model-002")
    for body in (plain, tagged, copy_of):
        raw(g, "POST", "/api/dashboards/db", {"dashboard": body, "folderUid": "ml-models", "overwrite": False})
    ui_rule = copy.deepcopy(fx.rule_group("manual", "ml-models")["rules"][0])
    ui_rule.update(uid="ui-rule-1", title="hand-made", folderUID="ml-models", ruleGroup="manual", orgID=1)
    raw(g, "POST", "/api/v1/provisioning/alert-rules", ui_rule, {"X-Disable-Provenance": "true"})

    _, fewer = fx.desired(3, models=2)
    without_prune = sync(g, fewer)
    assert g.writes == [] and "md-model-model-002" in g.state.dashboards
    assert any(a.op == "extra" for a in without_prune.actions)

    report = sync(g, fewer, prune=True)
    deleted = {(a.kind, a.key) for a in report.actions if a.result == "deleted"}
    assert deleted == {("dashboard", "md-model-model-002"), ("rule_group", "ml-models/model-002")}
    assert {"team-board", "tagged-board", "copy-of-002"} <= set(g.state.dashboards)
    assert "md-model-model-002" not in g.state.dashboards
    assert "ui-rule-1" in g.state.rules and "mdr-model-002-latency" not in g.state.rules
    assert "deleted: " in report_table(report, FLEET, g.url, False)
    assert sorted(report_json(report, FLEET, g.url, [])["deleted"]) == ["dashboard md-model-model-002",
                                                                        "rule_group ml-models/model-002"]
    sync(g, fewer, prune=True)
    assert g.writes == []


def test_ui_edit_of_dashboard_is_a_conflict_until_force(g):
    _, desired = fx.desired(2)
    sync(g, desired)
    live = raw(g, "GET", "/api/dashboards/uid/md-model-model-001")["dashboard"]
    live["panels"][0]["title"] = "Latency p95 (edited in the UI)"
    raw(g, "POST", "/api/dashboards/db", {"dashboard": live, "folderUid": "ml-models", "overwrite": False})

    report = sync(g, desired)
    conflict = [a for a in report.actions if a.result == "conflict"]
    assert [a.key for a in conflict] == ["md-model-model-001"]
    assert "edited in the UI" in conflict[0].diff and conflict[0].diff.count("\n-") >= 1
    assert g.writes == []
    assert g.state.dashboards["md-model-model-001"]["dashboard"]["panels"][0]["title"].endswith("(edited in the UI)")

    forced = sync(g, desired, force=True)
    assert results(forced)[("dashboard", "md-model-model-001")] == "updated"
    # The one dashboard, plus the contact points --force rewrites (their secrets are hidden).
    assert [w for w in g.writes if "contact-points" not in w[1]] == [("POST", "/api/dashboards/db")]
    assert g.state.dashboards["md-model-model-001"]["dashboard"]["panels"][0]["title"] == "Latency p95"
    sync(g, desired)
    assert g.writes == []


def test_ui_edit_of_rule_is_a_conflict(g):
    _, desired = fx.desired(2)
    sync(g, desired)
    rule = raw(g, "GET", "/api/v1/provisioning/alert-rules/mdr-model-000-latency")
    rule["for"] = "15m"
    raw(g, "PUT", "/api/v1/provisioning/alert-rules/mdr-model-000-latency", rule, {"X-Disable-Provenance": "true"})
    report = sync(g, desired)
    assert [a.key for a in report.conflicts] == ["ml-models/model-000"]
    assert "900" in report.conflicts[0].diff and g.writes == []
    sync(g, desired, force=True)
    assert g.state.rules["mdr-model-000-latency"]["for"] == "5m"


def test_unmanaged_dashboard_with_our_uid_is_a_conflict(g):
    _, desired = fx.desired(1)
    raw(g, "POST", "/api/folders", {"uid": "ml-models", "title": "ML Models"})
    raw(g, "POST", "/api/dashboards/db", {"dashboard": fx.dashboard_json("md-model-model-000", "Someone's", "y"),
                                         "folderUid": "ml-models", "overwrite": False})
    report = sync(g, desired)
    assert [a.reason for a in report.conflicts] == ["exists in Grafana and is not managed by modeldash"]
    assert g.state.dashboards["md-model-model-000"]["dashboard"]["title"] == "Someone's"


def test_policy_tree_keeps_foreign_routes(g):
    raw(g, "POST", "/api/v1/provisioning/contact-points",
        {"uid": "ops", "name": "ops-pager", "type": "email", "settings": {"addresses": "ops@example.com"}})
    foreign = {"receiver": "ops-pager", "object_matchers": [["team", "=", "ops"]], "group_wait": "30s"}
    raw(g, "PUT", "/api/v1/provisioning/policies",
        {"receiver": "grafana-default-email", "group_by": ["alertname"], "routes": [foreign]})
    _, desired = fx.desired(2)
    sync(g, desired)
    tree = g.state.tree
    assert tree["receiver"] == "grafana-default-email" and tree["group_by"] == ["alertname"]
    assert foreign in tree["routes"] and len(tree["routes"]) == 2
    mine = [r for r in tree["routes"] if ownership.route_is_managed(r, FLEET)]
    assert [r["receiver"] for r in mine[0]["routes"]] == ["modeldash-ml-slack", "modeldash-ml-webhook"]

    sync(g, desired)
    assert g.writes == []

    # The spec drops its alerting: prune removes only modeldash's route, and its contact points.
    _, bare = fx.desired(2, with_alerts=False)
    report = sync(g, bare, prune=True)
    assert g.state.tree["routes"] == [foreign]
    assert {a.key for a in report.actions if a.result == "deleted" and a.kind == "contact_point"} == {
        ownership.contact_point_prefix(FLEET) + "ml-slack",
        ownership.contact_point_prefix(FLEET) + "ml-webhook"}
    assert {"ops", "default-email"} <= set(g.state.contact_points)
    # Deletions ran in reverse order: rule groups before the policy tree before contact points.
    paths = [p for _, p in g.writes]
    assert paths.index("/api/v1/provisioning/policies") < max(i for i, p in enumerate(paths) if "contact-points" in p)


def test_contact_point_secret_rotation_is_detected_without_showing_it(g):
    _, desired = fx.desired(1)
    sync(g, desired)
    env = {**fx.SECRETS, "MODELDASH_TEST_WEBHOOK_PASSWORD": "rotated-password-0xABCD"}
    g.reset_counts()
    report = run_sync(http(g), desired, FLEET, apply_changes=True, env=env)
    # Grafana shows the password as [REDACTED]: it cannot be compared, so no write...
    assert g.writes == [] and report.count()["updated"] == 0
    # ...unless --force, which rewrites contact points with secure settings.
    g.reset_counts()
    forced = run_sync(http(g), desired, FLEET, apply_changes=True, env=env, force=True)
    assert {a.key for a in forced.actions if a.result == "updated"} == {
        ownership.contact_point_prefix(FLEET) + "ml-slack", ownership.contact_point_prefix(FLEET) + "ml-webhook"}
    assert g.state.contact_points[ownership.contact_point_prefix(FLEET) + "ml-webhook"]["settings"]["password"] == "rotated-password-0xABCD"
    # ...but a visible setting that changed is written, and its diff hides every secret.
    changed = copy.deepcopy(desired)
    for i, d in enumerate(changed):
        if d.kind == "contact_point" and "webhook" in d.key:
            changed[i] = type(d)(d.kind, d.key, d.title, {**d.body, "settings": {**d.body["settings"], "httpMethod": "PUT"}})
    report = run_sync(http(g), changed, FLEET, apply_changes=False, env=env)
    diffs = "\n".join(a.diff for a in report.actions)
    assert "httpMethod" in diffs
    for secret in list(env.values()):
        assert secret not in diffs


# --------------------------------------------------------------------------- faults


@pytest.mark.parametrize("fault", [
    {"kind": "500", "path": "/api/dashboards/db", "times": 3},
    {"kind": "500", "path": "/api/v1/provisioning/folder/", "times": 2},
    {"kind": "429", "path": "/api/dashboards/db", "times": 2, "retry_after": 1},
    {"kind": "drop", "after": 6, "times": 3},
    {"kind": "slow", "method": "POST", "path": "/api/dashboards/db", "times": 1, "delay": 1.2},
    {"kind": "slow", "method": "GET", "path": "/api/search", "times": 1, "delay": 1.2},
])
def test_faults_are_retried_and_the_sync_converges(g, fault):
    _, desired = fx.desired(3)
    g.add_fault(fault.pop("kind"), **fault)
    start = time.monotonic()
    report = sync(g, desired, timeout=0.5, retries=4)
    elapsed = time.monotonic() - start
    assert report.failures == [], [a.error for a in report.failures]
    assert report.retries >= 1 and report.count()["created"] == len(desired)
    if "retry_after" in fault:
        assert elapsed >= 1.0  # Retry-After honoured, not just the tiny test backoff
    sync(g, desired)
    assert g.writes == []


def test_persistent_failure_is_isolated_listed_and_a_rerun_converges(g):
    _, desired = fx.desired(3)
    g.add_fault("500", method="POST", path="/api/dashboards/db", times=2 * 3)  # retries=1: 2 attempts each
    report = sync(g, desired, retries=1)
    failed = {a.key for a in report.failures}
    assert failed == {f"md-model-model-00{i}" for i in range(3)}
    assert all("server error 500" in a.error and "gave up after 2 attempts" in a.error for a in report.failures)
    assert report.count()["created"] == len(desired) - 3  # the others went on
    assert "failed:" in report_table(report, FLEET, g.url, False)
    again = sync(g, desired)
    assert again.failures == [] and again.count()["created"] == 3
    sync(g, desired)
    assert g.writes == []


def test_unreachable_unauthorized_forbidden(g):
    dead = GrafanaHTTP(Settings(url="http://127.0.0.1:9", token=TOKEN, retries=1, backoff=0.01))
    with pytest.raises(GrafanaError, match=r"cannot reach Grafana at http://127\.0\.0\.1:9"):
        dead.health_check()
    bad = GrafanaHTTP(Settings(url=g.url, token="not-the-token-123"))
    with pytest.raises(GrafanaError, match=r"rejected the credentials \(401\)"):
        bad.health_check()
    viewer = GrafanaHTTP(Settings(url=g.url, token="standin-viewer-token-0123456789"))
    with pytest.raises(GrafanaError, match=r"lacks permission \(403\)"):
        viewer.health_check()
    g.healthy = False
    with pytest.raises(GrafanaError, match="unhealthy"):
        http(g, retries=0).health_check()


def test_basic_auth(g):
    h = GrafanaHTTP(Settings(url=g.url, user="admin", password="standin-password-0123"))
    assert h.health_check() == "11.3.0"


def test_rule_group_interval_is_compared(g):
    _, desired = fx.desired(2)
    sync(g, desired)
    slower = copy.deepcopy(desired)
    for i, d in enumerate(slower):
        if d.key == "ml-models/model-001":
            body = ownership.stamp_rule_group({**d.body, "interval": 120}, FLEET)
            slower[i] = type(d)(d.kind, d.key, d.title, body, d.model, d.folder_uid)
    report = sync(g, slower)
    assert [a.key for a in report.actions if a.result == "updated"] == ["ml-models/model-001"]
    assert g.state.intervals[("ml-models", "model-001")] == 120
    sync(g, slower)
    assert g.writes == []


def test_requests_run_concurrently_within_the_bound():
    with GrafanaStandin(latency=0.03) as server:
        _, desired = fx.desired(12)
        run_sync(http(server, concurrency=3), desired, FLEET, apply_changes=True, concurrency=3, env=fx.SECRETS)
        assert server.max_in_flight == 3
        server.max_in_flight = 0
        run_sync(http(server, concurrency=8), desired, FLEET, apply_changes=True, concurrency=8, env=fx.SECRETS)
        assert 3 < server.max_in_flight <= 8


def test_a_kind_that_cannot_be_read_stops_the_sync_before_any_write(g):
    _, desired = fx.desired(2)
    g.add_fault("500", method="GET", path="/api/v1/provisioning/alert-rules", times=10)
    with pytest.raises(GrafanaError, match="list alert rules: server error 500"):
        sync(g, desired, retries=2)
    assert g.writes == []


def test_group_names_with_spaces_and_slashes(g):
    spec, _ = fx.desired(1)
    group = fx.rule_group("model-000", spec.folder_uid)
    group["title"] = "model 000 / latency"
    from modeldash.sync.desired_state import build_desired

    desired = build_desired(spec, [], [], None, [group])
    sync(g, desired)
    assert {r["ruleGroup"] for r in g.state.rules.values()} == {"model 000 / latency"}
    sync(g, desired)
    assert g.writes == []
    report = sync(g, build_desired(spec, [], [], None, []), prune=True)
    assert [a.result for a in report.actions if a.kind == "rule_group"] == ["deleted"] and g.state.rules == {}


def test_without_the_export_endpoint_intervals_come_from_each_group(g):
    _, desired = fx.desired(2)
    sync(g, desired)
    g.add_fault("404", path="/api/v1/provisioning/alert-rules/export", times=100)
    report = sync(g, desired)
    assert g.writes == [] and report.count()["conflicts"] == 0 and report.count()["unchanged"] == len(desired)
    assert sum(n for (m, p), n in g.requests.items() if "/rule-groups/" in p) == 2


def test_search_is_paged(g, monkeypatch):
    from modeldash.scripts import sync_kinds

    monkeypatch.setattr(sync_kinds, "SEARCH_LIMIT", 2)
    monkeypatch.setattr(sync_kinds, "UID_CHUNK", 3)
    _, desired = fx.desired(5)
    sync(g, desired)
    _, fewer = fx.desired(5, models=4)
    report = sync(g, fewer, prune=True)
    assert [a.key for a in report.actions if a.result == "deleted" and a.kind == "dashboard"] == ["md-model-model-004"]
    assert g.requests[("GET", "/api/search")] >= 2 + 3  # uid chunks of 3 (2 pages for the first), tag pages of 2
    sync(g, fewer)
    assert g.writes == []
