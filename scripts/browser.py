"""Debian's Chromium, headless, driven over the Chrome DevTools Protocol (one websocket).

``Chromium`` launches ``/usr/bin/chromium`` with a fresh profile directory and no network
services, reads the DevTools endpoint from ``DevToolsActivePort`` and talks CDP over
websocket-client. ``Page.open`` sizes the viewport, loads a file and waits until the page sets
``window.mdPreviewReady``; ``screenshot`` captures exactly the viewport as PNG. No browser is
ever downloaded.
"""
from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import websocket

from modeldash.scripts.processes import end_process

CHROMIUM_BIN = "/usr/bin/chromium"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
    "--force-color-profile=srgb", "--font-render-hinting=none", "--disable-lcd-text",
    "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
]


class BrowserError(Exception):
    """Chromium is missing, did not start, or a page failed to load or draw."""


class Chromium:
    """One headless Chromium process and its CDP connection; a context manager."""

    def __init__(self, binary: str = CHROMIUM_BIN, timeout: float = 30.0):
        self.binary = binary
        self.timeout = timeout
        self.process: subprocess.Popen | None = None
        self._profile: Path | None = None
        self._ws: websocket.WebSocket | None = None
        self._ids = itertools.count(1)

    def start(self) -> "Chromium":
        if not Path(self.binary).exists():
            raise BrowserError(f"{self.binary} not found (install Debian's chromium package)")
        self._profile = Path(tempfile.mkdtemp(prefix="modeldash-chromium-"))
        self.process = subprocess.Popen(
            [self.binary, *FLAGS, f"--user-data-dir={self._profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = self._profile / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise BrowserError(f"{self.binary} exited at start (code {self.process and self.process.returncode})")
            lines = port_file.read_text().split() if port_file.exists() else []
            if len(lines) >= 2:
                self._ws = websocket.create_connection(f"ws://127.0.0.1:{lines[0]}{lines[1]}", timeout=self.timeout,
                                                       suppress_origin=True)
                return self
            time.sleep(0.05)
        self.stop()
        raise BrowserError(f"{self.binary} did not open its DevTools port within {self.timeout:.0f}s")

    def call(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """Send one CDP command and wait for its answer (events in between are dropped)."""
        msg_id = next(self._ids)
        msg = {"id": msg_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self._ws.send(json.dumps(msg))
        while True:
            reply = json.loads(self._ws.recv())
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error'].get('message')}")
                return reply.get("result", {})

    def page(self) -> "Page":
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        return Page(self, target, session)

    def stop(self) -> None:
        if self._ws is not None:
            try:
                self.call("Browser.close")
            except (BrowserError, OSError, websocket.WebSocketException):
                pass
            self._ws.close()
            self._ws = None
        if self.process is not None:
            end_process(self.process, 10, terminate=False)  # Browser.close asked it to exit
            self.process = None
        if self._profile is not None:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class Page:
    """One tab: open a file at a viewport size, evaluate JavaScript, take a PNG."""

    def __init__(self, browser: Chromium, target: str, session: str):
        self.browser, self.target, self.session = browser, target, session
        self.size = (0, 0)

    def _call(self, method: str, params: dict | None = None) -> dict:
        return self.browser.call(method, params, self.session)

    def open(self, path: Path, width: int, height: int, timeout: float = 30.0) -> None:
        self.size = (int(width), int(height))
        self._call("Emulation.setDeviceMetricsOverride",
                   {"width": self.size[0], "height": self.size[1], "deviceScaleFactor": 1, "mobile": False})
        self._call("Emulation.setTimezoneOverride", {"timezoneId": "UTC"})
        self._call("Page.navigate", {"url": Path(path).resolve().as_uri()})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.evaluate("window.mdPreviewReady === true && document.readyState === 'complete'"):
                return
            time.sleep(0.05)
        raise BrowserError(f"{path}: the page did not finish drawing within {timeout:.0f}s")

    def evaluate(self, expression: str, await_promise: bool = False):
        result = self._call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                 "awaitPromise": await_promise})
        if "exceptionDetails" in result:
            raise BrowserError(f"JavaScript error: {result['exceptionDetails'].get('text')} "
                               f"{result['exceptionDetails'].get('exception', {}).get('description', '')}")
        return result.get("result", {}).get("value")

    def screenshot(self) -> bytes:
        width, height = self.size
        shot = self._call("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": False,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
        return base64.b64decode(shot["data"])

    def close(self) -> None:
        self.browser.call("Target.closeTarget", {"targetId": self.target})
