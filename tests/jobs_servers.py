"""Real servers for the jobs' tests: Pushgateway, Prometheus and PostgreSQL from Debian.

Each is started on a free 127.0.0.1 port in a temp dir, waited for, and stopped and removed
at the end of the session. Import the fixtures into a test module to use them.
"""
from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

PUSHGATEWAY = "/usr/bin/prometheus-pushgateway"
PROMETHEUS = "/usr/bin/prometheus"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(url: str, method: str = "GET", timeout: float = 5.0) -> bytes:
    req = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return resp.read()


def wait_ready(url: str, proc: subprocess.Popen, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} during start-up")
        try:
            http(url, timeout=1.0)
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} not ready at {url} after {timeout}s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Pushgateway:
    url: str

    def groups(self) -> list[dict]:
        return json.loads(http(f"{self.url}/api/v1/metrics"))["data"]

    def group(self, job: str, model: str) -> dict | None:
        for g in self.groups():
            if g["labels"].get("job") == job and g["labels"].get("model") == model:
                return g
        return None

    def series(self, job: str, model: str, metric: str) -> dict[tuple, float]:
        """``{sorted label items: value}`` of one metric in one group."""
        g = self.group(job, model) or {}
        fam = g.get(metric) or {}
        out = {}
        for m in fam.get("metrics", []):
            out[tuple(sorted(m["labels"].items()))] = float(m["value"])
        return out

    def delete(self, job: str, model: str) -> None:
        http(f"{self.url}/metrics/job/{job}/model/{model}", method="DELETE")


@pytest.fixture(scope="session")
def pushgateway(tmp_path_factory):
    if not os.access(PUSHGATEWAY, os.X_OK):
        pytest.fail(f"{PUSHGATEWAY} is missing: `make test` installs Debian's prometheus-pushgateway")
    port = free_port()
    log = open(tmp_path_factory.mktemp("pushgateway") / "log", "wb")
    proc = subprocess.Popen([PUSHGATEWAY, f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=log)
    try:
        wait_ready(f"http://127.0.0.1:{port}/-/ready", proc, "pushgateway")
        yield Pushgateway(f"http://127.0.0.1:{port}")
    finally:
        stop(proc)
        log.close()


@dataclass
class Prometheus:
    url: str

    def query(self, expr: str) -> list[dict]:
        body = http(f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
        return json.loads(body)["data"]["result"]

    def wait_for(self, expr: str, check, timeout: float = 20.0) -> list[dict]:
        """Query until ``check(result)`` holds (scrapes run every second)."""
        deadline = time.monotonic() + timeout
        result = []
        while time.monotonic() < deadline:
            result = self.query(expr)
            if check(result):
                return result
            time.sleep(0.25)
        raise AssertionError(f"{expr} never satisfied the check; last result {result}")


@pytest.fixture(scope="session")
def prometheus(pushgateway, tmp_path_factory):
    """A Prometheus scraping the Pushgateway every second with ``honor_labels: true``."""
    if not os.access(PROMETHEUS, os.X_OK):
        pytest.fail(f"{PROMETHEUS} is missing: `make test` installs Debian's prometheus")
    root = tmp_path_factory.mktemp("prometheus")
    target = pushgateway.url.removeprefix("http://")
    (root / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: pushgateway\n"
        "    honor_labels: true\n"
        f"    static_configs: [{{targets: ['{target}']}}]\n"
    )
    port = free_port()
    log = open(root / "log", "wb")
    proc = subprocess.Popen(
        [PROMETHEUS, f"--config.file={root / 'prometheus.yml'}", f"--storage.tsdb.path={root / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=1h"],
        stdout=log, stderr=log,
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}/-/ready", proc, "prometheus")
        yield Prometheus(f"http://127.0.0.1:{port}")
    finally:
        stop(proc)
        log.close()


# --------------------------------------------------------------------------- PostgreSQL


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        pytest.fail(f"PostgreSQL's {name} is missing: `make test` installs Debian's postgresql")
    return found[-1]


def _as_postgres(cmd: list[str]) -> list[str]:
    """initdb refuses to run as root: run the server as the `postgres` user then."""
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


def start_postgres(root: Path, options: str = "", timeout: int = 30):
    """A throwaway PostgreSQL cluster in ``root`` on a free loopback port: ``(port, stop)``.

    Shared by the ``postgres_url`` fixture and ``benchmarks/drift_engines.py``."""
    data, sock = root / "data", root / "sock"
    sock.mkdir(parents=True)
    if os.geteuid() == 0:
        pg = pwd.getpwnam("postgres")
        os.chmod(root, 0o755)
        for p in (root, sock):
            os.chown(p, pg.pw_uid, pg.pw_gid)
    port = free_port()
    subprocess.run(_as_postgres([_pg_bin("initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync"]),
                   check=True, capture_output=True)
    subprocess.run(
        _as_postgres([_pg_bin("pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "-t", str(timeout), "-o",
                      f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off {options}".rstrip(), "start"]),
        check=True, capture_output=True,
    )

    def stop():
        subprocess.run(_as_postgres([_pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                       capture_output=True)

    return port, stop


@pytest.fixture(scope="session")
def postgres_url():
    """A throwaway PostgreSQL cluster on a free port; yields a SQLAlchemy URL (psycopg driver)."""
    # under /tmp when root: the `postgres` user must be able to reach it ($TMPDIR may be in /root)
    root = Path(tempfile.mkdtemp(prefix="modeldash-pg-", dir="/tmp" if os.geteuid() == 0 else None))
    stop = None
    try:
        port, stop = start_postgres(root)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        if stop is not None:
            stop()
        shutil.rmtree(root, ignore_errors=True)
