"""The Grafana stand-in itself is strict: bad bodies and broken rules are rejected like Grafana would."""
from __future__ import annotations

import copy

import niquests
import pytest

import sync_fixtures as fx
from grafana_standin import GrafanaStandin

TOKEN = "standin-admin-token-0123456789"


@pytest.fixture
def g():
    with GrafanaStandin() as server:
        yield server


def call(g, method, path, body=None, token=TOKEN, headers=None):
    h = {"Authorization": f"Bearer {token}", **(headers or {})} if token else dict(headers or {})
    r = niquests.request(method, g.url + path, json=body, headers=h, timeout=5)
    return r.status_code, (r.json() if r.content else None)


def folder(g, uid="ml", title="ML"):
    assert call(g, "POST", "/api/folders", {"uid": uid, "title": title})[0] == 200


def good_dashboard(uid="d1", title="D1"):
    return fx.dashboard_json(uid, title, "m1")


def test_auth_required_and_read_only_token(g):
    assert call(g, "GET", "/api/health", token=None)[0] == 200
    assert call(g, "GET", "/api/search", token=None)[0] == 401
    assert call(g, "GET", "/api/search", token="wrong")[0] == 401
    viewer = "standin-viewer-token-0123456789"
    assert call(g, "GET", "/api/search", token=viewer)[0] == 200
    assert call(g, "POST", "/api/folders", {"uid": "x", "title": "X"}, token=viewer)[0] == 403
    assert call(g, "GET", "/api/v1/provisioning/policies", token=viewer)[0] == 403


def test_dashboard_schema_and_rules(g):
    folder(g)
    ok = {"dashboard": good_dashboard(), "folderUid": "ml", "overwrite": False, "message": "m"}
    bad = copy.deepcopy(ok)
    bad["dashboard"]["panels"][0]["gridPos"]["w"] = "wide"
    assert call(g, "POST", "/api/dashboards/db", bad)[0] == 400
    unknown = copy.deepcopy(ok)
    unknown["dashboard"]["notAField"] = 1
    assert call(g, "POST", "/api/dashboards/db", unknown)[0] == 400
    long_uid = copy.deepcopy(ok)
    long_uid["dashboard"]["uid"] = "x" * 41
    assert call(g, "POST", "/api/dashboards/db", long_uid)[0] == 400
    missing_folder = {**ok, "folderUid": "nope"}
    assert call(g, "POST", "/api/dashboards/db", missing_folder)[0] in (400, 404)
    assert call(g, "POST", "/api/dashboards/db", {**ok, "message": "x" * 501})[0] == 400
    status, out = call(g, "POST", "/api/dashboards/db", ok)
    assert status == 200 and out["version"] == 1
    # A stale version without overwrite: 412 version-mismatch; with overwrite it saves.
    stale = copy.deepcopy(ok)
    stale["dashboard"]["version"] = 0
    status, out = call(g, "POST", "/api/dashboards/db", stale)
    assert status == 412 and out["status"] == "version-mismatch"
    assert call(g, "POST", "/api/dashboards/db", {**stale, "overwrite": True})[0] == 200


def test_folder_conflicts_and_search_paging(g):
    folder(g, "a", "Alpha")
    assert call(g, "POST", "/api/folders", {"uid": "a", "title": "Other"})[0] == 409
    assert call(g, "POST", "/api/folders", {"uid": "b", "title": "Alpha"})[0] == 409
    assert call(g, "POST", "/api/folders", {"uid": "bad uid!", "title": "B"})[0] == 400
    for i in range(5):
        body = {"dashboard": good_dashboard(f"d{i}", f"D{i}"), "folderUid": "a", "overwrite": False}
        assert call(g, "POST", "/api/dashboards/db", body)[0] == 200
    pages = [call(g, "GET", f"/api/search?type=dash-db&limit=2&page={p}")[1] for p in (1, 2, 3)]
    assert [len(p) for p in pages] == [2, 2, 1]
    assert len({h["uid"] for p in pages for h in p}) == 5


def test_rule_group_rules(g):
    folder(g, "ml")
    group = fx.rule_group("m1", "ml")
    hdr = {"X-Disable-Provenance": "true"}
    path = "/api/v1/provisioning/folder/ml/rule-groups/m1"
    assert call(g, "PUT", path, {**group, "interval": 45}, headers=hdr)[0] == 400
    no_for = copy.deepcopy(group)
    del no_for["rules"][0]["for"]
    assert call(g, "PUT", path, no_for, headers=hdr)[0] == 400
    bad_state = copy.deepcopy(group)
    bad_state["rules"][0]["noDataState"] = "Maybe"
    assert call(g, "PUT", path, bad_state, headers=hdr)[0] == 400
    for r in group["rules"]:
        r.update(folderUID="ml", ruleGroup="m1", orgID=1)
    assert call(g, "PUT", "/api/v1/provisioning/folder/nope/rule-groups/m1", group, headers=hdr)[0] in (400, 404)
    assert call(g, "PUT", path, group, headers=hdr)[0] == 200
    # Provenance cannot change: the same group without X-Disable-Provenance is refused.
    assert call(g, "PUT", path, group)[0] == 400
    wrong_receiver = copy.deepcopy(group)
    wrong_receiver["rules"][0]["notification_settings"] = {"receiver": "nobody"}
    assert call(g, "PUT", path, wrong_receiver, headers=hdr)[0] == 400


def test_contact_points_and_policies(g):
    assert call(g, "POST", "/api/v1/provisioning/contact-points", {"name": "x", "type": "carrier-pigeon", "settings": {}})[0] == 400
    cp = {"uid": "s1", "name": "slack-1", "type": "slack", "settings": {"url": "https://hooks.example/secret"}}
    assert call(g, "POST", "/api/v1/provisioning/contact-points", cp)[0] == 202
    listed = call(g, "GET", "/api/v1/provisioning/contact-points")[1]
    assert {c["uid"]: c["settings"].get("url") for c in listed}["s1"] == "[REDACTED]"
    tree = {"receiver": "grafana-default-email", "routes": [{"receiver": "missing", "object_matchers": [["a", "=", "b"]]}]}
    assert call(g, "PUT", "/api/v1/provisioning/policies", tree)[0] == 400
    tree["routes"][0]["receiver"] = "slack-1"
    tree["routes"][0]["bogus"] = True
    assert call(g, "PUT", "/api/v1/provisioning/policies", tree)[0] == 400
    del tree["routes"][0]["bogus"]
    assert call(g, "PUT", "/api/v1/provisioning/policies", tree)[0] == 202
    assert call(g, "DELETE", "/api/v1/provisioning/contact-points/s1")[0] == 409  # in use by the tree


def test_fault_injection_and_counting(g):
    g.add_fault("500", path="/api/search", times=1)
    g.add_fault("429", path="/api/search", times=1, retry_after=3)
    assert call(g, "GET", "/api/search")[0] == 500
    r = niquests.get(g.url + "/api/search", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert r.status_code == 429 and r.headers["Retry-After"] == "3"
    assert call(g, "GET", "/api/search")[0] == 200
    g.add_fault("drop", after=1, times=1)
    assert call(g, "GET", "/api/search")[0] == 200
    with pytest.raises(niquests.exceptions.RequestException):
        call(g, "GET", "/api/search")
    assert g.requests[("GET", "/api/search")] == 5
