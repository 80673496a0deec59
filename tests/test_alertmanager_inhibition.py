"""The generated inhibit_rules on a real Alertmanager (Debian's prometheus-alertmanager).

The example fleet's alertmanager.yaml, with its receivers pointed at a webhook receiver run here
and short group timings, is loaded into Alertmanager on 127.0.0.1; critical and warning twins of
one model are posted through API v2. The webhook must see the criticals, never their warnings,
and a warning without a critical twin (the control) must still arrive.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from jobs_servers import free_port, stop, wait_ready
from modeldash.alerts.build import alert_definitions, alertmanager_config

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
AMTOOL = shutil.which("amtool")


class Webhook:
    """Collects Alertmanager's webhook notifications: ``(receiver, alertname, model, severity)``."""

    def __init__(self):
        self.received: list[tuple[str, str, str, str]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                for a in body["alerts"]:
                    lb = a["labels"]
                    owner.received.append((self.path.strip("/"), lb["alertname"], lb.get("model", ""), lb["severity"]))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def seen(self, alertname: str, model: str, severity: str) -> bool:
        return any(r[1:] == (alertname, model, severity) for r in self.received)


def _definition(spec, name, model, severity):
    return next(d for d in alert_definitions(spec) if d.name == name and d.model == model and d.severity == severity)


@pytest.fixture
def alertmanager(example_spec, tmp_path):
    if not os.access(ALERTMANAGER, os.X_OK):
        pytest.fail(f"{ALERTMANAGER} is missing: `make test` installs Debian's prometheus-alertmanager")
    hook = Webhook()
    config = alertmanager_config(example_spec)
    # receivers -> the local webhook (same names, so the generated routes still decide who gets what)
    config["receivers"] = [{"name": r["name"], "webhook_configs": [{"url": f"{hook.url}/{r['name']}", "send_resolved": False}]}
                           for r in config["receivers"]]
    config["route"].update(group_wait="1s", group_interval="1s", repeat_interval="1h")
    path = tmp_path / "alertmanager.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=True))
    check = subprocess.run([AMTOOL, "check-config", str(path)], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr
    port = free_port()
    log = open(tmp_path / "log", "wb")
    proc = subprocess.Popen([ALERTMANAGER, f"--config.file={path}", f"--storage.path={tmp_path / 'data'}",
                             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                            stdout=log, stderr=log)
    try:
        wait_ready(f"http://127.0.0.1:{port}/-/ready", proc, "alertmanager")
        yield f"http://127.0.0.1:{port}", hook
    finally:
        stop(proc)
        log.close()
        hook.server.shutdown()


def _post(url: str, alerts: list[dict]) -> None:
    req = urllib.request.Request(f"{url}/api/v2/alerts", data=json.dumps(alerts).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert resp.status == 200


def test_critical_silences_its_warning_twin_for_the_same_model(example_spec, alertmanager):
    url, hook = alertmanager
    posted = [
        ("ModelErrorRateHigh", "fraud-detector", "critical"), ("ModelErrorRateHigh", "fraud-detector", "warning"),
        ("ModelLatencyP95Critical", "fraud-detector", "critical"), ("ModelLatencyP95High", "fraud-detector", "warning"),
        ("ModelErrorRateHigh", "churn-classifier", "warning"),  # control: no critical twin, must notify
    ]
    alerts = []
    for name, model, sev in posted:
        d = _definition(example_spec, name, model, sev)
        alerts.append({"labels": {**d.labels, "alertname": d.name}, "annotations": {"summary": d.summary}})
    _post(url, alerts[:1] + alerts[2:3])  # the criticals first, as when a breach grows
    _post(url, alerts[1:2] + alerts[3:])
    deadline = time.monotonic() + 20
    expected = [("ModelErrorRateHigh", "fraud-detector", "critical"), ("ModelLatencyP95Critical", "fraud-detector", "critical"),
                ("ModelErrorRateHigh", "churn-classifier", "warning")]
    while time.monotonic() < deadline and not all(hook.seen(*e) for e in expected):
        time.sleep(0.1)
    assert all(hook.seen(*e) for e in expected), hook.received
    time.sleep(2.5)  # two more group intervals: an inhibited warning would have been flushed by now
    assert not hook.seen("ModelErrorRateHigh", "fraud-detector", "warning"), hook.received
    assert not hook.seen("ModelLatencyP95High", "fraud-detector", "warning"), hook.received
    # the critical of the risk team goes to its own receiver (routing untouched by inhibition)
    assert ("risk-oncall", "ModelErrorRateHigh", "fraud-detector", "critical") in hook.received
    with urllib.request.urlopen(f"{url}/api/v2/alerts", timeout=5) as resp:
        state = {(a["labels"]["alertname"], a["labels"]["model"], a["labels"]["severity"]): a["status"]
                 for a in json.loads(resp.read())}
    assert state[("ModelErrorRateHigh", "fraud-detector", "warning")]["inhibitedBy"]
    assert state[("ModelLatencyP95High", "fraud-detector", "warning")]["inhibitedBy"]
    assert not state[("ModelErrorRateHigh", "churn-classifier", "warning")]["inhibitedBy"]
