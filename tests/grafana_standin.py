"""A strict local stand-in for Grafana's HTTP API: a real HTTP server on 127.0.0.1.

Why: a Grafana server cannot be installed here, and a stand-in that accepts anything
proves nothing. This one implements the endpoints the sync uses with Grafana's rules
(auth, uid limits, 412 version-mismatch, missing folders, 409 folder clashes, rule-group
intervals, required rule fields, provenance, search paging, read-only tokens), validates
every body against the official schemas in ``_package/schemas/grafana/`` and can inject
faults: 500s, 429 with Retry-After, slow responses, dropped connections, latency.
It counts every request by method and path.
"""
from __future__ import annotations

import base64
import copy
import json
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import parse_qs, unquote, urlsplit

import jsonschema

from modeldash.spec.base import format_duration, parse_duration

UID_RE = re.compile(r"^[a-zA-Z0-9_-]{1,40}$")
SECURE_FIELDS = {
    "slack": {"url", "token"},
    "webhook": {"password", "authorization_credentials"},
    "pagerduty": {"integrationKey"},
    "teams": {"url"},
    "discord": {"url"},
    "googlechat": {"url"},
    "opsgenie": {"apiKey"},
    "email": set(),
}
DEFAULT_TREE = {"receiver": "grafana-default-email", "group_by": ["grafana_folder", "alertname"]}
DEFAULT_CP = {"uid": "default-email", "name": "grafana-default-email", "type": "email",
              "settings": {"addresses": "<example@email.com>"}, "disableResolveMessage": False}


def _schema(name: str) -> dict:
    root = resources.files("modeldash") / "schemas" / "grafana" / name
    return json.loads(root.read_text(encoding="utf-8"))


class HTTPProblem(Exception):
    def __init__(self, code: int, message: str, **extra):
        self.status, self.message, self.extra = code, message, extra
        super().__init__(message)


class Validators:
    """Draft-07 validators for the bodies Grafana accepts, built once."""

    def __init__(self):
        dash = _schema("dashboard.jsonschema.json")
        alerting = _schema("alerting.jsonschema.json")
        defs = alerting["definitions"]
        self.dashboard = jsonschema.Draft7Validator(dash)
        self.rule = jsonschema.Draft7Validator({"$ref": "#/definitions/Rule", "definitions": defs})
        self.group = jsonschema.Draft7Validator({"$ref": "#/definitions/RuleGroup", "definitions": defs})
        self.contact_point = jsonschema.Draft7Validator({"$ref": "#/definitions/ContactPoint", "definitions": defs})
        self.policy = jsonschema.Draft7Validator({"$ref": "#/definitions/NotificationPolicy", "definitions": defs})

    @staticmethod
    def check(validator, body, what: str) -> None:
        error = jsonschema.exceptions.best_match(validator.iter_errors(body))
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            raise HTTPProblem(400, f"invalid {what}: {where}: {error.message[:200]}")


VALIDATORS = None


def _validators() -> Validators:
    global VALIDATORS
    if VALIDATORS is None:
        VALIDATORS = Validators()
    return VALIDATORS


def rule_for_schema(rule: dict) -> dict:
    """The schema's two quirks: ``keepFiringFor`` in nanoseconds, camelCase."""
    out = {k: v for k, v in rule.items() if v is not None}  # Go decodes null as "absent"
    if "keep_firing_for" in out:
        value = out.pop("keep_firing_for")
        try:
            out["keepFiringFor"] = int(parse_duration(value) * 1e9)
        except ValueError:
            raise HTTPProblem(400, f"invalid keep_firing_for {value!r}") from None
    return out


class State:
    """Everything the stand-in stores, for one organisation."""

    def __init__(self):
        self.folders: dict[str, dict] = {}
        self.dashboards: dict[str, dict] = {}
        self.rules: dict[str, dict] = {}
        self.intervals: dict[tuple[str, str], int] = {}
        self.contact_points: dict[str, dict] = {"default-email": dict(DEFAULT_CP, provenance="")}
        self.tree: dict = copy.deepcopy(DEFAULT_TREE)
        self.tree_provenance = ""
        self.next_id = 1

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id


class GrafanaStandin:
    """Start with ``with GrafanaStandin() as g:``; ``g.url``; tokens in ``g.tokens``."""

    def __init__(self, token: str = "standin-admin-token-0123456789", viewer_token: str = "standin-viewer-token-0123456789",
                 user: str = "admin", password: str = "standin-password-0123", latency: float = 0.0,
                 tls: tuple[str, str] | None = None):
        self.tokens = {token: "Admin", viewer_token: "Viewer"}
        self.users = {(user, password): "Admin"}
        self.latency = latency
        self.state = State()
        self.lock = threading.RLock()
        self.requests: Counter[tuple[str, str]] = Counter()
        self.log: list[tuple[str, str]] = []
        self.faults: list[dict] = []
        self.healthy = True
        self.errors: list[str] = []
        self.tls = tls
        self.in_flight = 0
        self.max_in_flight = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> "GrafanaStandin":
        standin = self

        class Handler(_Handler):
            owner = standin

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if self.tls:
            import ssl

            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*self.tls)
            self._server.socket = ctx.wrap_socket(self._server.socket, server_side=True)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{'https' if self.tls else 'http'}://{host}:{port}"

    # ------------------------------------------------------------------ observation
    def reset_counts(self) -> None:
        with self.lock:
            self.requests.clear()
            self.log.clear()

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    @property
    def writes(self) -> list[tuple[str, str]]:
        return [(m, p) for m, p in self.log if m not in ("GET", "HEAD")]

    def add_fault(self, kind: str, *, method: str | None = None, path: str | None = None, times: int = 1,
                  after: int = 0, retry_after: float = 1, delay: float = 0.0) -> None:
        """``kind``: 500 | 404 | 429 | slow | drop | echo400 | html (200 with an SSO login page) | login
        (302 to ``/login``, which serves that page). ``after`` matching requests pass untouched first."""
        with self.lock:
            self.faults.append({"kind": kind, "method": method, "path": path, "times": times, "after": after,
                                "retry_after": retry_after, "delay": delay})

    def take_fault(self, method: str, path: str) -> dict | None:
        with self.lock:
            for f in self.faults:
                if f["times"] <= 0:
                    continue
                if f["method"] and f["method"] != method:
                    continue
                if f["path"] and not path.startswith(f["path"]):
                    continue
                if f["after"] > 0:
                    f["after"] -= 1
                    continue
                f["times"] -= 1
                return f
        return None


class _Handler(BaseHTTPRequestHandler):
    owner: GrafanaStandin
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes

    def log_message(self, *args):  # quiet
        pass

    # ------------------------------------------------------------------ plumbing
    def _send(self, status: int, body=None, headers: dict | None = None,
              content_type: str = "application/json", raw: bytes | None = None) -> None:
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if data:
            self.wfile.write(data)

    def _send_html(self) -> None:
        """What an SSO proxy in front of Grafana answers: 200 and a login page."""
        page = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>SSO login</body></html>"
        self._send(200, content_type="text/html; charset=utf-8", raw=page)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise HTTPProblem(400, "bad request data: body is not JSON") from None

    def _role(self) -> str | None:
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return self.owner.tokens.get(auth[7:])
        if auth.startswith("Basic "):
            try:
                user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                return None
            return self.owner.users.get((user, pw))
        return None

    def _handle(self, method: str) -> None:
        owner = self.owner
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        if path == "/_standin/stats":  # not Grafana: the benchmark reads the counts from here
            with owner.lock:
                writes = [f"{m} {p}" for m, p in owner.writes]
                return self._send(200, {"total": owner.total, "writes": writes, "errors": owner.errors})
        if path == "/_standin/reset":
            owner.reset_counts()
            return self._send(200, {})
        with owner.lock:
            owner.requests[(method, path)] += 1
            owner.log.append((method, path))
            owner.in_flight += 1
            owner.max_in_flight = max(owner.max_in_flight, owner.in_flight)
        try:
            self._serve(method, path, query)
        finally:
            with owner.lock:
                owner.in_flight -= 1

    def _serve(self, method: str, path: str, query: dict) -> None:
        owner = self.owner
        if owner.latency:
            time.sleep(owner.latency)
        try:
            body = self._body() if method in ("POST", "PUT") else None
        except HTTPProblem as p:
            return self._send(p.status, {"message": p.message})
        fault = owner.take_fault(method, path)
        if fault:
            if fault["kind"] == "drop":
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if fault["kind"] == "500":
                return self._send(500, {"message": "internal server error (injected)"})
            if fault["kind"] == "404":  # an endpoint this "Grafana version" does not have
                return self._send(404, {"message": "Not found"})
            if fault["kind"] == "429":
                return self._send(429, {"message": "too many requests (injected)"},
                                  {"Retry-After": str(fault["retry_after"])})
            if fault["kind"] == "echo400":  # like Grafana's validation errors that quote the input
                return self._send(400, {"message": f"invalid input: {json.dumps(body)[:2000]}"})
            if fault["kind"] == "slow":
                time.sleep(fault["delay"])
            if fault["kind"] == "html":  # an SSO proxy's login page, status 200
                return self._send_html()
            if fault["kind"] == "login":
                self.send_response(302)
                self.send_header("Location", f"/login?next={path}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        try:
            if path == "/login":  # where the "login" fault redirects to
                return self._send_html()
            if path == "/api/health":
                if not owner.healthy:
                    return self._send(503, {"database": "failing", "version": "11.3.0"})
                return self._send(200, {"database": "ok", "version": "11.3.0", "commit": "standin"})
            role = self._role()
            if role is None:
                return self._send(401, {"message": "Unauthorized"})
            if method != "GET" and role == "Viewer":
                return self._send(403, {"message": "You'll need additional permissions to perform this action."})
            if path.startswith("/api/v1/provisioning") and role == "Viewer":
                return self._send(403, {"message": "You'll need additional permissions to perform this action. "
                                                   "Permissions needed: alert.provisioning:read"})
            status, out, headers = self._route(method, path, query, body)
            return self._send(status, out, headers)
        except HTTPProblem as p:
            return self._send(p.status, {"message": p.message, **p.extra})
        except Exception as exc:  # a stand-in bug: visible to tests through ``errors``
            owner.errors.append(f"{method} {path}: {exc!r}")
            return self._send(500, {"message": "stand-in internal error"})

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_DELETE(self):
        self._handle("DELETE")

    # ------------------------------------------------------------------ routing
    def _route(self, method, path, query, body):
        routes = [
            ("GET", r"/api/search", self.search),
            ("GET", r"/api/folders", self.list_folders),
            ("POST", r"/api/folders", self.create_folder),
            ("GET", r"/api/folders/(?P<uid>[^/]+)", self.get_folder),
            ("PUT", r"/api/folders/(?P<uid>[^/]+)", self.update_folder),
            ("DELETE", r"/api/folders/(?P<uid>[^/]+)", self.delete_folder),
            ("POST", r"/api/dashboards/db", self.save_dashboard),
            ("GET", r"/api/dashboards/uid/(?P<uid>[^/]+)", self.get_dashboard),
            ("DELETE", r"/api/dashboards/uid/(?P<uid>[^/]+)", self.delete_dashboard),
            ("GET", r"/api/v1/provisioning/alert-rules", self.list_rules),
            ("GET", r"/api/v1/provisioning/alert-rules/export", self.export_rules),
            ("POST", r"/api/v1/provisioning/alert-rules", self.create_rule),
            ("GET", r"/api/v1/provisioning/alert-rules/(?P<uid>[^/]+)", self.get_rule),
            ("PUT", r"/api/v1/provisioning/alert-rules/(?P<uid>[^/]+)", self.update_rule),
            ("DELETE", r"/api/v1/provisioning/alert-rules/(?P<uid>[^/]+)", self.delete_rule),
            ("GET", r"/api/v1/provisioning/folder/(?P<folder>[^/]+)/rule-groups/(?P<group>[^/]+)", self.get_group),
            ("PUT", r"/api/v1/provisioning/folder/(?P<folder>[^/]+)/rule-groups/(?P<group>[^/]+)", self.put_group),
            ("DELETE", r"/api/v1/provisioning/folder/(?P<folder>[^/]+)/rule-groups/(?P<group>[^/]+)", self.delete_group),
            ("GET", r"/api/v1/provisioning/contact-points", self.list_contact_points),
            ("POST", r"/api/v1/provisioning/contact-points", self.create_contact_point),
            ("PUT", r"/api/v1/provisioning/contact-points/(?P<uid>[^/]+)", self.update_contact_point),
            ("DELETE", r"/api/v1/provisioning/contact-points/(?P<uid>[^/]+)", self.delete_contact_point),
            ("GET", r"/api/v1/provisioning/policies", self.get_policies),
            ("PUT", r"/api/v1/provisioning/policies", self.put_policies),
            ("DELETE", r"/api/v1/provisioning/policies", self.reset_policies),
        ]
        for m, pattern, fn in routes:
            match = re.fullmatch(pattern, path)
            if match and m == method:
                params = {k: unquote(v) for k, v in match.groupdict().items()}
                with self.owner.lock:
                    result = fn(query=query, body=body, **params)
                if len(result) == 2:
                    return result[0], result[1], None
                return result
        raise HTTPProblem(404, f"not found: {method} {path}")

    @property
    def s(self) -> State:
        return self.owner.state

    @property
    def provenance(self) -> str:
        return "" if "X-Disable-Provenance" in self.headers else "api"

    @staticmethod
    def _need_object(body, what):
        if not isinstance(body, dict):
            raise HTTPProblem(400, f"bad request data: {what} must be a JSON object")
        return body

    @staticmethod
    def _check_uid(uid, what):
        if not isinstance(uid, str) or not UID_RE.match(uid):
            raise HTTPProblem(400, f"invalid {what} uid: must be 1-40 characters of a-z A-Z 0-9 _ -")

    # ------------------------------------------------------------------ search
    def search(self, query, body):
        types = query.get("type", ["dash-db"])
        limit = min(int(query.get("limit", ["1000"])[0]), 5000)
        page = max(int(query.get("page", ["1"])[0]), 1)
        tags = set(query.get("tag", []))
        folders = set(query.get("folderUIDs", []))
        uids = set(query.get("dashboardUIDs", []))
        text = (query.get("query", [""])[0] or "").lower()
        hits = []
        if "dash-folder" in types:
            for f in self.s.folders.values():
                hits.append({"uid": f["uid"], "title": f["title"], "type": "dash-folder", "tags": [], "url": f"/dashboards/f/{f['uid']}"})
        if "dash-db" in types:
            for uid, d in self.s.dashboards.items():
                dash = d["dashboard"]
                if tags and not tags <= set(dash.get("tags") or []):
                    continue
                if folders and d["folderUid"] not in folders:
                    continue
                if uids and uid not in uids:
                    continue
                if text and text not in dash.get("title", "").lower():
                    continue
                folder = self.s.folders.get(d["folderUid"], {})
                hits.append({"id": dash["id"], "uid": uid, "title": dash.get("title"), "type": "dash-db",
                             "url": f"/d/{uid}", "tags": dash.get("tags") or [], "folderUid": d["folderUid"],
                             "folderTitle": folder.get("title", "General"), "isStarred": False})
        hits.sort(key=lambda h: (h["title"] or "").lower())
        return 200, hits[(page - 1) * limit: page * limit]

    # ------------------------------------------------------------------ folders
    def list_folders(self, query, body):
        limit = int(query.get("limit", ["1000"])[0])
        page = max(int(query.get("page", ["1"])[0]), 1)
        items = [{"id": f["id"], "uid": f["uid"], "title": f["title"]} for f in self.s.folders.values()]
        return 200, items[(page - 1) * limit: page * limit]

    def _folder_out(self, f):
        return {"id": f["id"], "uid": f["uid"], "title": f["title"], "url": f"/dashboards/f/{f['uid']}", "version": f["version"]}

    def create_folder(self, query, body):
        body = self._need_object(body, "folder")
        allowed = {"uid", "title", "parentUid", "description"}
        if set(body) - allowed:
            raise HTTPProblem(400, f"bad request data: unknown field(s) {sorted(set(body) - allowed)}")
        title = body.get("title")
        if not isinstance(title, str) or not title.strip():
            raise HTTPProblem(400, "folder title cannot be empty")
        uid = body.get("uid") or f"f{self.s.new_id()}"
        self._check_uid(uid, "folder")
        if uid in self.s.folders:
            raise HTTPProblem(409, "a folder with the same uid already exists")
        if any(f["title"] == title for f in self.s.folders.values()):
            raise HTTPProblem(409, "a folder with the same name already exists")
        f = {"id": self.s.new_id(), "uid": uid, "title": title, "version": 1}
        self.s.folders[uid] = f
        return 200, self._folder_out(f)

    def get_folder(self, query, body, uid):
        f = self.s.folders.get(uid)
        if not f:
            raise HTTPProblem(404, "folder not found")
        return 200, self._folder_out(f)

    def update_folder(self, query, body, uid):
        body = self._need_object(body, "folder")
        f = self.s.folders.get(uid)
        if not f:
            raise HTTPProblem(404, "folder not found")
        title = body.get("title")
        if not isinstance(title, str) or not title.strip():
            raise HTTPProblem(400, "folder title cannot be empty")
        if not body.get("overwrite") and body.get("version") != f["version"]:
            raise HTTPProblem(412, "the folder has been changed by someone else", status="version-mismatch")
        if any(o["title"] == title and o["uid"] != uid for o in self.s.folders.values()):
            raise HTTPProblem(409, "a folder with the same name already exists")
        f["title"], f["version"] = title, f["version"] + 1
        return 200, self._folder_out(f)

    def delete_folder(self, query, body, uid):
        if uid not in self.s.folders:
            raise HTTPProblem(404, "folder not found")
        has_rules = any(r["folderUID"] == uid for r in self.s.rules.values())
        if has_rules and query.get("forceDeleteRules", ["false"])[0] != "true":
            raise HTTPProblem(400, "folder cannot be deleted: folder contains alert rules")
        del self.s.folders[uid]
        for d in [k for k, v in self.s.dashboards.items() if v["folderUid"] == uid]:
            del self.s.dashboards[d]
        for r in [k for k, v in self.s.rules.items() if v["folderUID"] == uid]:
            del self.s.rules[r]
        return 200, {"message": "Folder deleted"}

    # ------------------------------------------------------------------ dashboards
    def save_dashboard(self, query, body):
        body = self._need_object(body, "save dashboard command")
        allowed = {"dashboard", "folderUid", "folderId", "overwrite", "message"}
        if set(body) - allowed:
            raise HTTPProblem(400, f"bad request data: unknown field(s) {sorted(set(body) - allowed)}")
        dash = self._need_object(body.get("dashboard"), "dashboard")
        message = body.get("message", "")
        if not isinstance(message, str) or len(message) > 500:
            raise HTTPProblem(400, "message too long (max 500 characters)")
        Validators.check(_validators().dashboard, dash, "dashboard")
        title = dash.get("title")
        if not isinstance(title, str) or not title.strip() or len(title) > 5000:
            raise HTTPProblem(400, "dashboard title cannot be empty or longer than 5000 characters")
        uid = dash.get("uid") or f"d{self.s.new_id()}"
        self._check_uid(uid, "dashboard")
        folder = body.get("folderUid") or ""
        if folder and folder not in self.s.folders:
            raise HTTPProblem(400, "folder not found")
        existing = self.s.dashboards.get(uid)
        if existing and existing.get("provisioned"):
            raise HTTPProblem(400, "cannot save provisioned dashboard")
        if existing and not body.get("overwrite") and dash.get("version") != existing["version"]:
            raise HTTPProblem(412, "the dashboard has been changed by someone else", status="version-mismatch")
        if not body.get("overwrite"):
            for other_uid, other in self.s.dashboards.items():
                if other_uid != uid and other["folderUid"] == folder and other["dashboard"].get("title") == title:
                    raise HTTPProblem(400, "a dashboard with the same name in the folder already exists")
        version = existing["version"] + 1 if existing else 1
        stored = copy.deepcopy(dash)
        stored.update({"id": existing["dashboard"]["id"] if existing else self.s.new_id(), "uid": uid, "version": version})
        self.s.dashboards[uid] = {"dashboard": stored, "folderUid": folder, "version": version, "message": message,
                                  "provisioned": False}
        return 200, {"id": stored["id"], "uid": uid, "url": f"/d/{uid}", "status": "success", "version": version, "slug": uid}

    def get_dashboard(self, query, body, uid):
        d = self.s.dashboards.get(uid)
        if not d:
            raise HTTPProblem(404, "Dashboard not found")
        folder = self.s.folders.get(d["folderUid"], {})
        meta = {"slug": uid, "url": f"/d/{uid}", "version": d["version"], "folderUid": d["folderUid"],
                "folderTitle": folder.get("title", "General"), "provisioned": d["provisioned"], "canSave": True,
                "created": "2026-01-01T00:00:00Z", "updated": "2026-01-01T00:00:00Z"}
        # No copy: a save replaces the stored dict, it never mutates it.
        return 200, {"dashboard": d["dashboard"], "meta": meta}

    def delete_dashboard(self, query, body, uid):
        d = self.s.dashboards.get(uid)
        if not d:
            raise HTTPProblem(404, "Dashboard not found")
        if d["provisioned"]:
            raise HTTPProblem(400, "cannot delete provisioned dashboard")
        del self.s.dashboards[uid]
        return 200, {"title": d["dashboard"].get("title"), "message": "Dashboard deleted", "id": d["dashboard"]["id"]}

    # ------------------------------------------------------------------ alert rules
    def _receivers(self) -> set[str]:
        return {cp["name"] for cp in self.s.contact_points.values()}

    def _check_rule(self, rule: dict, folder: str | None = None, group: str | None = None) -> dict:
        rule = self._need_object(rule, "alert rule")
        Validators.check(_validators().rule, rule_for_schema(rule), "alert rule")
        if "uid" in rule:
            self._check_uid(rule["uid"], "alert rule")
        if rule["folderUID"] not in self.s.folders:
            raise HTTPProblem(404, f"folder {rule['folderUID']} not found")
        if folder is not None and rule["folderUID"] != folder:
            raise HTTPProblem(400, "rule folderUID does not match the rule group's folder")
        if group is not None and rule["ruleGroup"] != group:
            raise HTTPProblem(400, "rule ruleGroup does not match the rule group's title")
        try:
            seconds = parse_duration(rule["for"])
        except ValueError:
            raise HTTPProblem(400, f"invalid for duration {rule['for']!r}") from None
        refs = [q.get("refId") for q in rule["data"]]
        if not rule["data"] or rule["condition"] not in refs:
            raise HTTPProblem(400, f"condition {rule['condition']!r} does not name a query refId")
        for q in rule["data"]:
            if not q.get("refId") or not q.get("datasourceUid") or not isinstance(q.get("model"), dict):
                raise HTTPProblem(400, "every query needs refId, datasourceUid and model")
        receiver = (rule.get("notification_settings") or {}).get("receiver")
        if receiver and receiver not in self._receivers():
            raise HTTPProblem(400, f"notification_settings.receiver {receiver!r} is not a contact point")
        existing = self.s.rules.get(rule.get("uid"))
        if existing and existing["provenance"] != self.provenance:
            raise HTTPProblem(400, f"cannot change provenance from '{existing['provenance']}' to '{self.provenance}'")
        stored = copy.deepcopy(rule)
        stored["for"] = format_duration(seconds) if seconds else "0s"
        stored.setdefault("uid", f"r{self.s.new_id()}")
        stored["id"] = existing["id"] if existing else self.s.new_id()
        stored["provenance"] = self.provenance
        stored["updated"] = "2026-01-01T00:00:00Z"
        return stored

    def _rule_out(self, rule: dict) -> dict:
        # Shallow: stored rules are replaced on every write, never mutated.
        return {"annotations": {}, "labels": {}, "isPaused": False, "notification_settings": None, "record": None,
                "keep_firing_for": "0s", "orgID": 1, **rule}

    def list_rules(self, query, body):
        return 200, [self._rule_out(r) for r in self.s.rules.values()]

    def export_rules(self, query, body):
        """Provisioning file format: folder TITLE, interval as a duration string."""
        if query.get("format", ["yaml"])[0] != "json":
            raise HTTPProblem(400, "only format=json is implemented by the stand-in")
        folders = set(query.get("folderUid", [])) or set(self.s.folders)
        groups: dict[tuple[str, str], list[dict]] = {}
        for r in self.s.rules.values():
            if r["folderUID"] in folders:
                groups.setdefault((r["folderUID"], r["ruleGroup"]), []).append(r)
        if not groups:
            raise HTTPProblem(404, "no alert rules found")
        out = []
        for (folder, name), rules in sorted(groups.items()):
            file_rules = []
            for r in rules:
                fr = {k: v for k, v in r.items() if k not in ("id", "orgID", "folderUID", "ruleGroup", "provenance", "updated")}
                fr["for"] = r["for"]
                file_rules.append(fr)
            out.append({"orgId": 1, "name": name, "folder": self.s.folders[folder]["title"],
                        "interval": format_duration(self.s.intervals.get((folder, name), 60)), "rules": file_rules})
        return 200, {"apiVersion": 1, "groups": out}

    def get_rule(self, query, body, uid):
        if uid not in self.s.rules:
            raise HTTPProblem(404, "rule not found")
        return 200, self._rule_out(self.s.rules[uid])

    def create_rule(self, query, body):
        stored = self._check_rule(body)
        if stored["uid"] in self.s.rules:
            raise HTTPProblem(409, "a rule with this uid already exists")
        self.s.rules[stored["uid"]] = stored
        self.s.intervals.setdefault((stored["folderUID"], stored["ruleGroup"]), 60)
        return 201, self._rule_out(stored)

    def update_rule(self, query, body, uid):
        if uid not in self.s.rules:
            raise HTTPProblem(404, "rule not found")
        stored = self._check_rule({**self._need_object(body, "alert rule"), "uid": uid})
        self.s.rules[uid] = stored
        return 200, self._rule_out(stored)

    def delete_rule(self, query, body, uid):
        self.s.rules.pop(uid, None)
        return 204, None

    def _group_rules(self, folder, group):
        return [r for r in self.s.rules.values() if r["folderUID"] == folder and r["ruleGroup"] == group]

    def get_group(self, query, body, folder, group):
        rules = self._group_rules(folder, group)
        if not rules:
            raise HTTPProblem(404, "rule group not found")
        return 200, {"title": group, "folderUid": folder, "interval": self.s.intervals.get((folder, group), 60),
                     "rules": [self._rule_out(r) for r in rules]}

    def put_group(self, query, body, folder, group):
        body = self._need_object(body, "rule group")
        rules = body.get("rules")
        Validators.check(_validators().group, {**body, "rules": [rule_for_schema(r) if isinstance(r, dict) else r
                                                                 for r in rules or []]}, "rule group")
        if folder not in self.s.folders:
            raise HTTPProblem(404, "folder not found")
        if not 1 <= len(group) <= 190 or body.get("title", group) != group:
            raise HTTPProblem(400, "rule group title must be 1-190 characters and match the path")
        interval = body.get("interval")
        if not isinstance(interval, int) or interval <= 0 or interval % 10:
            raise HTTPProblem(400, f"invalid interval {interval!r}: must be a positive multiple of 10s")
        stored = [self._check_rule(r, folder, group) for r in rules or []]
        uids = [r["uid"] for r in stored]
        if len(set(uids)) != len(uids):
            raise HTTPProblem(400, "duplicate rule uid in the group")
        for r in stored:
            other = self.s.rules.get(r["uid"])
            if other and (other["folderUID"], other["ruleGroup"]) != (folder, group):
                raise HTTPProblem(409, f"rule {r['uid']} belongs to another rule group")
        for r in self._group_rules(folder, group):
            if r["uid"] not in uids:
                del self.s.rules[r["uid"]]
        for r in stored:
            self.s.rules[r["uid"]] = r
        self.s.intervals[(folder, group)] = interval
        return 200, {"title": group, "folderUid": folder, "interval": interval, "rules": [self._rule_out(r) for r in stored]}

    def delete_group(self, query, body, folder, group):
        rules = self._group_rules(folder, group)
        if not rules:
            raise HTTPProblem(404, "rule group not found")
        for r in rules:
            del self.s.rules[r["uid"]]
        self.s.intervals.pop((folder, group), None)
        return 204, None

    # ------------------------------------------------------------------ contact points
    def _cp_out(self, cp: dict) -> dict:
        out = copy.deepcopy(cp)
        secure = SECURE_FIELDS.get(cp["type"], set())
        out["settings"] = {k: ("[REDACTED]" if k in secure and v else v) for k, v in cp["settings"].items()}
        return out

    def _check_cp(self, body: dict) -> dict:
        body = self._need_object(body, "contact point")
        Validators.check(_validators().contact_point, body, "contact point")
        if not body.get("name"):
            raise HTTPProblem(400, "contact point name cannot be empty")
        if "uid" in body:
            self._check_uid(body["uid"], "contact point")
        if body["type"] in ("slack", "webhook", "teams", "discord", "googlechat") and not body["settings"].get("url"):
            raise HTTPProblem(400, f"{body['type']} contact point needs settings.url")
        if body["type"] == "email" and not body["settings"].get("addresses"):
            raise HTTPProblem(400, "email contact point needs settings.addresses")
        return copy.deepcopy(body)

    def list_contact_points(self, query, body):
        name = (query.get("name") or [None])[0]
        return 200, [self._cp_out(cp) for cp in self.s.contact_points.values() if not name or cp["name"] == name]

    def create_contact_point(self, query, body):
        cp = self._check_cp(body)
        cp.setdefault("uid", f"c{self.s.new_id()}")
        if cp["uid"] in self.s.contact_points:
            raise HTTPProblem(400, "a contact point with this uid already exists")
        cp["provenance"] = self.provenance
        cp.setdefault("disableResolveMessage", False)
        self.s.contact_points[cp["uid"]] = cp
        return 202, self._cp_out(cp)

    def update_contact_point(self, query, body, uid):
        old = self.s.contact_points.get(uid)
        if not old:
            raise HTTPProblem(404, "contact point not found")
        cp = self._check_cp(body)
        if old["provenance"] != self.provenance:
            raise HTTPProblem(400, f"cannot change provenance from '{old['provenance']}' to '{self.provenance}'")
        for k, v in list(cp["settings"].items()):  # a [REDACTED] value keeps the stored secret
            if v == "[REDACTED]":
                cp["settings"][k] = old["settings"].get(k)
        cp.update({"uid": uid, "provenance": self.provenance})
        cp.setdefault("disableResolveMessage", False)
        self.s.contact_points[uid] = cp
        return 202, {"message": "contactpoint updated"}

    def _names_in_tree(self, route: dict) -> set[str]:
        names = {route["receiver"]} if route.get("receiver") else set()
        for child in route.get("routes") or []:
            names |= self._names_in_tree(child)
        return names

    def delete_contact_point(self, query, body, uid):
        cp = self.s.contact_points.get(uid)
        if not cp:
            return 204, None
        used = cp["name"] in self._names_in_tree(self.s.tree) or any(
            (r.get("notification_settings") or {}).get("receiver") == cp["name"] for r in self.s.rules.values())
        if used and sum(1 for c in self.s.contact_points.values() if c["name"] == cp["name"]) == 1:
            raise HTTPProblem(409, f"contact point {cp['name']!r} is in use by a notification policy or rule")
        del self.s.contact_points[uid]
        return 204, None

    # ------------------------------------------------------------------ policies
    def get_policies(self, query, body):
        out = copy.deepcopy(self.s.tree)
        if self.s.tree_provenance:
            out["provenance"] = self.s.tree_provenance
        return 200, out

    def put_policies(self, query, body):
        tree = self._need_object(body, "notification policy tree")
        Validators.check(_validators().policy, tree, "notification policy tree")
        if not tree.get("receiver"):
            raise HTTPProblem(400, "the root route needs a receiver")
        missing = self._names_in_tree(tree) - self._receivers()
        if missing:
            raise HTTPProblem(400, f"receiver(s) {sorted(missing)} are not contact points")
        if self.s.tree_provenance == "file":
            raise HTTPProblem(400, "cannot change a file-provisioned policy tree")
        self.s.tree = {k: v for k, v in copy.deepcopy(tree).items() if k != "provenance"}
        self.s.tree_provenance = self.provenance
        return 202, {"message": "policies updated"}

    def reset_policies(self, query, body):
        self.s.tree, self.s.tree_provenance = copy.deepcopy(DEFAULT_TREE), ""
        return 202, {"message": "policies reset"}


def main() -> None:
    """Serve until stdin closes: ``python tests/grafana_standin.py --latency 0.02`` prints its URL.

    ``GET /_standin/stats`` (no auth) returns the request counts, for the benchmark.
    """
    import argparse
    import sys

    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=float, default=0.0)
    args = ap.parse_args()
    with GrafanaStandin(latency=args.latency) as g:
        print(g.url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
