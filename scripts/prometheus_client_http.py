"""A minimal client for Prometheus's HTTP API (/api/v1/query, /alerts, /rules), over urllib.

Used by the live lint, the harness, the demo and the benchmark; errors become
``PrometheusError`` with Prometheus's own message, never a traceback for the user.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request


class PrometheusError(Exception):
    """Prometheus unreachable, or it rejected a request (bad PromQL, timeout...)."""


def _get(base_url: str, path: str, params: dict | None = None, timeout: float = 30.0) -> dict:
    url = base_url.rstrip("/") + path
    data = urllib.parse.urlencode(params or {}, doseq=True).encode() if params else None
    req = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    if data:
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = json.loads(resp.read().decode())
    except urllib.error.HTTPError as exc:
        try:
            body = json.loads(exc.read().decode())
        except ValueError:
            raise PrometheusError(f"{url}: HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise PrometheusError(f"cannot reach Prometheus at {base_url}: {reason}") from None
    if body.get("status") != "success":
        raise PrometheusError(f"{body.get('errorType', 'error')}: {body.get('error', 'unknown error')}")
    return body


def query(base_url: str, expr: str, time: float | None = None, timeout: float = 30.0) -> dict:
    """An instant query: ``{"resultType": ..., "result": [...]}``."""
    params = {"query": expr}
    if time is not None:
        params["time"] = f"{time:.3f}"
    return _get(base_url, "/api/v1/query", params, timeout)["data"]


def query_range(base_url: str, expr: str, start: float, end: float, step: float, timeout: float = 60.0) -> dict:
    params = {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
    return _get(base_url, "/api/v1/query_range", params, timeout)["data"]


def label_values(base_url: str, label: str, match: str | None = None) -> list[str]:
    params = {"match[]": [match]} if match else None
    path = f"/api/v1/label/{urllib.parse.quote(label, safe='')}/values"
    if params:
        path += "?" + urllib.parse.urlencode(params, doseq=True)
    return _get(base_url, path)["data"]


def firing_alerts(base_url: str) -> list[dict]:
    """Alerts currently firing (pending ones excluded), as /api/v1/alerts returns them."""
    return [a for a in _get(base_url, "/api/v1/alerts")["data"]["alerts"] if a.get("state") == "firing"]


def rule_groups(base_url: str) -> list[dict]:
    return _get(base_url, "/api/v1/rules")["data"]["groups"]
