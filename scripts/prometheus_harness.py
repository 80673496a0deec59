"""Run the real Prometheus (Debian's ``/usr/bin/prometheus``) on a free loopback port.

A temporary data directory, a short scrape and evaluation interval, the given scrape jobs and
rule files; ``start()`` waits until ``/-/ready`` answers, ``stop()`` terminates it and removes
the directory. Used by the end-to-end tests, ``modeldash demo`` and the benchmark.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

from modeldash.scripts.processes import end_process

PROMETHEUS_BIN = "/usr/bin/prometheus"


class HarnessError(Exception):
    """Prometheus could not be started (missing binary, bad config, not ready in time)."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def prometheus_config(scrape_configs: list[dict], rule_files: list[str], interval: str = "1s") -> dict:
    return {
        "global": {"scrape_interval": interval, "scrape_timeout": interval, "evaluation_interval": interval},
        "rule_files": list(rule_files),
        "scrape_configs": scrape_configs,
    }


class PrometheusServer:
    """One Prometheus process with its own temp dir; a context manager."""

    def __init__(self, scrape_configs: list[dict], rules: dict | None = None, interval: str = "1s",
                 binary: str = PROMETHEUS_BIN, host: str = "127.0.0.1", keep_dir: Path | None = None,
                 port: int | None = None):
        self.scrape_configs = scrape_configs
        self.rules = rules
        self.interval = interval
        self.binary = binary
        self.host = host
        self.port: int | None = None
        self._fixed_port = port or None  # None or 0: a free port
        self.process: subprocess.Popen | None = None
        self._dir: Path | None = None
        self._keep_dir = keep_dir

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def config_dir(self) -> Path:
        assert self._dir is not None
        return self._dir

    def _write_files(self) -> Path:
        root = self._keep_dir or Path(tempfile.mkdtemp(prefix="modeldash-prometheus-"))
        root.mkdir(parents=True, exist_ok=True)
        rule_files = []
        if self.rules is not None:
            (root / "rules.yml").write_text(yaml.safe_dump(self.rules, sort_keys=True), encoding="utf-8")
            rule_files.append(str(root / "rules.yml"))
        config = prometheus_config(self.scrape_configs, rule_files, self.interval)
        (root / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=True), encoding="utf-8")
        (root / "data").mkdir(exist_ok=True)
        return root

    def start(self, timeout: float = 30.0) -> "PrometheusServer":
        if not Path(self.binary).exists():
            raise HarnessError(f"{self.binary} not found (install Debian's prometheus package)")
        self._dir = self._write_files()
        for _attempt in range(3):  # the free port can be taken between probe and bind
            self.port = self._fixed_port or free_port(self.host)
            log = open(self._dir / "prometheus.log", "wb")
            self.process = subprocess.Popen(
                [
                    self.binary,
                    f"--config.file={self._dir / 'prometheus.yml'}",
                    f"--storage.tsdb.path={self._dir / 'data'}",
                    f"--web.listen-address={self.host}:{self.port}",
                    "--storage.tsdb.retention.time=1d",
                    "--web.enable-lifecycle",
                    "--log.level=warn",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
            log.close()
            if self._wait_ready(timeout):
                return self
            self._terminate()
            if "address already in use" not in self.log_tail() or self._fixed_port:
                break
        tail = self.log_tail()
        self.stop()
        raise HarnessError(f"Prometheus did not become ready: {tail}")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1) as resp:
                    if resp.status == 200:
                        return True
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        return False

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = (self._dir / "prometheus.log").read_text(errors="replace")
        except (OSError, TypeError):
            return ""
        return " | ".join(text.strip().splitlines()[-lines:])

    def reload_rules(self, rules: dict | None) -> None:
        """Replace the rule file and ask Prometheus to reload it (same process, same data)."""
        self.rules = rules
        rules_path = self._dir / "rules.yml"
        rules_path.write_text(yaml.safe_dump(rules or {"groups": []}, sort_keys=True), encoding="utf-8")
        config = prometheus_config(self.scrape_configs, [str(rules_path)], self.interval)
        (self._dir / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=True), encoding="utf-8")
        req = urllib.request.Request(f"{self.url}/-/reload", method="POST")
        with urllib.request.urlopen(req, timeout=10):
            pass

    def _terminate(self) -> None:
        if self.process is None:
            return
        end_process(self.process, 15)
        self.process = None

    def stop(self) -> None:
        self._terminate()
        if self._dir is not None and self._keep_dir is None:
            shutil.rmtree(self._dir, ignore_errors=True)
        self._dir = None if self._keep_dir is None else self._dir

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
