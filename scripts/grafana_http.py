"""grafana-client with what it lacks: bounded retries, request counting, redacted errors.

Why: grafana-client (``GrafanaApi``) makes one attempt per call and its exceptions carry
raw server text. The sync needs retries with exponential backoff and jitter on 429
(honouring ``Retry-After``), 5xx, timeouts and dropped connections; a count of every HTTP
request it made; and error messages that never contain a secret.
"""
from __future__ import annotations

import email.utils
import logging
import random
import re
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlsplit

import niquests
from grafana_client import GrafanaApi
from grafana_client.client import (
    GrafanaClientError,
    GrafanaException,
    GrafanaServerError,
    GrafanaTimeoutError,
    GrafanaUnauthorizedError,
)

log = logging.getLogger("modeldash.sync.http")

MAX_RETRY_AFTER = 60.0


class Redactor:
    """Replaces every known secret value (and credential-shaped text) with ``***``."""

    _PATTERNS = (
        re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)(bearer|basic)\s+[^\s\"',}]+"),
        re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
        re.compile(r"(://)[^/\s:@]+:[^/\s@]+@"),
    )

    def __init__(self, secrets: list[str] | tuple[str, ...] = ()):
        self._secrets: set[str] = set()
        self._lock = threading.Lock()
        for s in secrets:
            self.add(s)

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= 4:
            with self._lock:
                self._secrets.add(secret)

    def redact(self, text: Any) -> str:
        text = str(text)
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for s in secrets:
            text = text.replace(s, "***")
        text = self._PATTERNS[0].sub(r"\1\2 ***", text)
        text = self._PATTERNS[1].sub(r"\1***", text)
        text = self._PATTERNS[2].sub(r"\1***@", text)
        return text


class RedactingFilter(logging.Filter):
    """A logging filter that renders each record and removes secrets from it."""

    def __init__(self, redactor: Redactor):
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except Exception:  # a malformed record: keep it, but as text
            msg = str(record.msg)
        record.msg, record.args = self.redactor.redact(msg), None
        if record.exc_info:
            import traceback

            record.exc_text = self.redactor.redact("".join(traceback.format_exception(*record.exc_info)))
            record.exc_info = None
        return True


def setup_logging(redactor: Redactor, debug: bool) -> logging.Handler:
    """One stderr handler for every logger (ours, grafana-client, niquests, urllib3), redacted."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(redactor))
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_modeldash", False):
            root.removeHandler(old)
    handler._modeldash = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.WARNING)
    return handler


class GrafanaError(Exception):
    """A Grafana call that failed for good (after retries), phrased for one output line."""

    def __init__(self, status: int, message: str):
        self.status = status
        super().__init__(message)


@dataclass
class Settings:
    """How to reach Grafana. Secrets live only here and in the session, never in messages."""

    url: str
    token: str | None = None
    user: str | None = None
    password: str | None = None
    org_id: int | None = None
    verify: bool | str = True
    timeout: float = 10.0
    retries: int = 4
    backoff: float = 0.5
    backoff_max: float = 8.0
    concurrency: int = 8
    redactor: Redactor = field(default_factory=Redactor)


class NotGrafana(Exception):
    """A success status with a body that is not Grafana's JSON: a login page, a proxy, another service."""


def _not_json(response) -> str | None:
    """Why a < 400 answer is not from Grafana's API (it always answers JSON), or None when it is fine."""
    if response.status_code >= 400 or response.status_code == 204:
        return None
    body = response.content or b""
    kind = (response.headers.get("Content-Type") or "").lower()
    if not body.strip() or "json" in kind:
        return None
    what = "an HTML page" if "html" in kind or body.lstrip()[:1] == b"<" else f"{kind or 'untyped'} content, not JSON"
    history = getattr(response, "history", None) or []
    if history:
        target = urlsplit(str(response.url))
        what += f" after a {history[0].status_code} redirect to {target.scheme}://{target.netloc}{target.path}"
    return f"answered {response.status_code} with {what}"


class _CountingSession(niquests.Session):
    """A session that counts every attempt, remembers the last Retry-After per thread, and
    refuses an answer that is not Grafana's (an SSO login page answers 200 with HTML)."""

    def __init__(self, owner: "GrafanaHTTP", **kwargs):
        super().__init__(**kwargs)
        self._owner = owner

    def request(self, method, url, *args, **kwargs):
        self._owner._count(str(method).upper())
        self._owner._local.retry_after = None
        response = super().request(method, url, *args, **kwargs)
        self._owner._local.retry_after = response.headers.get("Retry-After")
        problem = _not_json(response)
        if problem:
            raise NotGrafana(problem)
        return response


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class GrafanaHTTP:
    """A ``GrafanaApi`` plus ``call(what, fn, ...)``: retries, counting and clean errors."""

    def __init__(self, settings: Settings, sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self.redactor = settings.redactor
        for secret in (settings.token, settings.password):
            self.redactor.add(secret)
        if settings.user and settings.password:  # the Basic header's form of the password
            import base64

            self.redactor.add(base64.b64encode(f"{settings.user}:{settings.password}".encode()).decode())
        self._sleep = sleep
        self._local = threading.local()
        self._lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        self.retries = 0
        parts = urlsplit(settings.url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the Grafana URL must look like http(s)://host[:port][/path]")
        if parts.username or parts.password:
            raise ValueError("put credentials in GRAFANA_TOKEN or GRAFANA_USER/GRAFANA_PASSWORD, not in the URL")
        auth: Any = settings.token or None
        if not auth and settings.user:
            auth = (settings.user, settings.password or "")
        prefix = parts.path.strip("/")
        self.api = GrafanaApi(
            auth=auth,
            host=parts.hostname,
            port=parts.port,
            url_path_prefix=f"{prefix}/" if prefix else "",
            protocol=parts.scheme,
            verify=settings.verify,
            timeout=settings.timeout,
            organization_id=settings.org_id,
            session_pool_size=max(10, settings.concurrency + 2),
        )
        old = self.api.client.s
        self.api.client.s = _CountingSession(self, pool_maxsize=max(10, settings.concurrency + 2))
        self.api.client.s.headers.update(old.headers)
        old.close()
        self.display_url = f"{parts.scheme}://{parts.netloc}{parts.path}"

    # ------------------------------------------------------------------ counting
    def _count(self, method: str) -> None:
        with self._lock:
            self.requests[method] += 1

    @property
    def total_requests(self) -> int:
        with self._lock:
            return sum(self.requests.values())

    @property
    def writes(self) -> int:
        with self._lock:
            return sum(n for m, n in self.requests.items() if m not in ("GET", "HEAD"))

    # ------------------------------------------------------------------ calls
    def _backoff(self, attempt: int) -> float:
        base = min(self.settings.backoff_max, self.settings.backoff * (2 ** attempt))
        return base * random.uniform(0.5, 1.0) + random.uniform(0, self.settings.backoff / 2)

    def call(self, what: str, fn: Callable[..., Any], *args, **kwargs) -> Any:
        """Run ``fn(*args, **kwargs)`` (a grafana-client method) with bounded retries.

        Retried: 429 (waiting at least ``Retry-After``), 5xx, timeouts and connection
        errors. Anything else raises ``GrafanaError`` at once, with a redacted message.
        """
        attempt = 0
        while True:
            try:
                return fn(*args, **kwargs)
            except GrafanaTimeoutError:
                status, reason, wait = 0, f"timed out after {self.settings.timeout:g}s", None
            except GrafanaServerError as exc:
                status, reason, wait = exc.status_code, f"server error {exc.status_code}", None
            except GrafanaUnauthorizedError as exc:
                raise GrafanaError(401, f"{what}: 401 unauthorized") from None
            except GrafanaClientError as exc:
                if exc.status_code != 429:
                    raise GrafanaError(exc.status_code, f"{what}: {exc.status_code} {self._message(exc)}") from None
                status, reason = 429, "429 too many requests"
                wait = _parse_retry_after(getattr(self._local, "retry_after", None))
            except NotGrafana as exc:  # not retried: a login page stays a login page
                raise GrafanaError(200, f"{what}: {self.display_url} {self.redactor.redact(exc)}: not Grafana's "
                                        "API (an SSO login page or proxy?); point GRAFANA_URL at Grafana itself") from None
            except niquests.exceptions.SSLError:
                raise GrafanaError(0, f"{what}: TLS verification of {self.display_url} failed: pass --ca-cert with "
                                      "the CA that signed Grafana's certificate (or, unsafe, --insecure-skip-verify)") from None
            except (GrafanaException, niquests.exceptions.RequestException) as exc:
                status, reason, wait = 0, f"connection failed ({exc.__class__.__name__})", None
            if attempt >= self.settings.retries:
                raise GrafanaError(status, f"{what}: {reason} (gave up after {attempt + 1} attempts)") from None
            delay = self._backoff(attempt)
            if wait is not None:
                delay = max(delay, min(wait, MAX_RETRY_AFTER))
            with self._lock:
                self.retries += 1
            log.debug("%s: %s; retry %d/%d in %.2fs", what, reason, attempt + 1, self.settings.retries, delay)
            self._sleep(delay)
            attempt += 1

    def _message(self, exc: GrafanaException) -> str:
        response = getattr(exc, "response", None)
        if isinstance(response, dict):
            text = response.get("message") or response.get("status") or response
        else:
            text = response or exc.message
        return self.redactor.redact(str(text))[:300]

    # ------------------------------------------------------------------ health
    def health_check(self) -> str:
        """Reachability, then credentials, then permissions; one clear line on failure."""
        url = self.display_url
        try:
            info = self.call("health", self.api.client.GET, "/health")
        except GrafanaError as exc:
            if exc.status == 503:
                raise GrafanaError(503, f"Grafana at {url} is unhealthy (database failing)") from None
            if exc.status in (0, 502, 504) or exc.status >= 500:
                raise GrafanaError(exc.status, f"cannot reach Grafana at {url}: {exc}") from None
            raise GrafanaError(exc.status, f"Grafana health check at {url} failed: {exc}") from None
        version = info.get("version", "?") if isinstance(info, dict) else "?"
        try:
            self.call("authenticated check", self.api.search.search_dashboards, limit=1)
        except GrafanaError as exc:
            if exc.status == 401:
                raise GrafanaError(401, f"Grafana at {url} rejected the credentials (401): check GRAFANA_TOKEN, "
                                        "--token-file or GRAFANA_USER/GRAFANA_PASSWORD") from None
            raise
        try:
            self.call("permission check", self.api.alertingprovisioning.get_notification_policy_tree)
        except GrafanaError as exc:
            if exc.status == 403:
                raise GrafanaError(403, f"the token lacks permission (403) to read alerting provisioning at {url}: "
                                        "give the service account the Admin role, or the dashboards writer and "
                                        "alerting provisioning permissions") from None
            raise
        return str(version)
