"""A tiny HTTP server on 127.0.0.1 that answers like an SSO proxy in front of a service.

Why: a Grafana or Pushgateway URL that points at a login page answers ``200`` with HTML,
either directly or after a ``302`` to ``/login``. Clients that only check for ">= 400" take
that for success. ``mode="html"`` answers every request with the page; ``mode="redirect"``
answers ``302 Location: /login?next=...`` and serves the page at ``/login``. Every request is
recorded in ``requests`` as ``(method, path)``.
"""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PAGE = (b"<!DOCTYPE html>\n<html><head><title>Sign in - Example SSO</title></head>"
        b"<body><form method=post action=/login><input name=user><input type=password name=pw></form></body></html>\n")


class LoginPageServer:
    def __init__(self, mode: str = "html"):
        if mode not in ("html", "redirect"):
            raise ValueError(mode)
        self.mode = mode
        self.requests: list[tuple[str, str]] = []
        self._server: ThreadingHTTPServer | None = None

    def __enter__(self) -> "LoginPageServer":
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _answer(self):
                n = int(self.headers.get("Content-Length") or 0)
                if n:
                    self.rfile.read(n)
                owner.requests.append((self.command, self.path))
                if owner.mode == "redirect" and not self.path.startswith("/login"):
                    self.send_response(302)
                    self.send_header("Location", f"/login?next={self.path}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(PAGE)))
                self.end_headers()
                self.wfile.write(PAGE)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"
