"""Benchmark: the drift job's engines at warehouse scale, beside the in-memory path in the same run.

* Parquet, ``--rows`` (default 20,000,000) x 20 numeric features, written in chunks with pyarrow:
  ``--engine stream`` on the whole file, ``--engine memory`` at ``--memory-rows`` (the largest size
  it completes here).
* PostgreSQL (a throwaway Debian cluster on 127.0.0.1), a table of ``--pg-rows`` (default
  10,000,000) x 20 features generated server-side: ``--engine sql``, and both engines on a
  ``--pg-memory-rows`` table. The job reaches PostgreSQL through a counting TCP proxy, so the
  bytes the database sent are measured, not estimated.

Run by hand (never in the test suite), e.g. ``nice -n 10 python benchmarks/drift_engines.py``.
Wall time and peak RSS are the job's own (a fresh child per run, as in ``drift_job.py``).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from drift_job import FEATURES, T0, measure  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from jobs_servers import start_postgres  # noqa: E402  (one PostgreSQL start-up, the tests')

BASE_ROWS = 100_000
CHUNK = 1_000_000


def spec(root: Path) -> Path:
    data = {"name": "bench", "models": [{"name": "bench", "namespace": "bench", "task": "regression",
                                         "features": FEATURES}]}
    (root / "fleet.yaml").write_text(yaml.safe_dump(data))
    return root / "fleet.yaml"


def write_parquet(path: Path, rows: int, seed: int, shift: bool) -> None:
    """``rows`` rows of uniform features (half shifted when ``shift``) over one hour, in 1M-row chunks."""
    rng = np.random.default_rng(seed)
    schema = pa.schema([("timestamp", pa.timestamp("us", tz="UTC"))] + [(f, pa.float64()) for f in FEATURES])
    t0 = int(T0.timestamp() * 1e6)
    with pq.ParquetWriter(path, schema, compression="snappy") as w:
        for lo in range(0, rows, CHUNK):
            n = min(CHUNK, rows - lo)
            micros = t0 + (np.arange(lo, lo + n, dtype=np.int64) * 3600 * 10**6) // rows
            cols = {f: rng.random(n) + (0.05 * (i % 2) if shift else 0.0) for i, f in enumerate(FEATURES)}
            w.write_table(pa.table({"timestamp": pa.array(micros, schema.field(0).type), **cols}, schema=schema))


def drift_cmd(modeldash: str, root: Path, source: str, engine: str, report: Path) -> list[str]:
    return [modeldash, "drift-job", str(root / "fleet.yaml"), "--baseline", str(root / "baseline.json"),
            "--input", source, "--end", (T0 + timedelta(hours=1)).isoformat(), "--window", "1h",
            "--engine", engine, "--dry-run", "--report", str(report)]


def run(cmd: list[str], report: Path, env: dict | None = None) -> dict:
    old = dict(os.environ)
    os.environ.update(env or {})
    try:
        r = measure(cmd)
    finally:
        os.environ.clear()
        os.environ.update(old)
    if r["rc"] == 0:
        rep = json.loads(report.read_text())
        r["rows"] = rep["rows"]
        r["engine"] = rep["engine"]
        r["psi_f01"] = rep["features"]["f01"]["scores"]["psi"]
    return r


# --------------------------------------------------------------------------- PostgreSQL


class CountingProxy:
    """127.0.0.1 TCP proxy that counts the bytes the server sends back."""

    def __init__(self, target_port: int):
        self.target = target_port
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.from_server = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            client, _ = self.sock.accept()
            server = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._pipe, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, True), daemon=True).start()

    def _pipe(self, src, dst, count):
        try:
            while data := src.recv(1 << 16):
                if count:
                    with self.lock:
                        self.from_server += len(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def take(self) -> int:
        with self.lock:
            n, self.from_server = self.from_server, 0
        return n


def pg_table(url: str, name: str, rows: int) -> float:
    """``rows`` rows generated inside PostgreSQL (nothing crosses the wire); returns the seconds it took."""
    import sqlalchemy as sa

    feats = ", ".join(f"random() + {0.05 * (i % 2)} AS {f}" for i, f in enumerate(FEATURES))  # benchmark constants
    t = time.perf_counter()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
        conn.exec_driver_sql(
            f"CREATE UNLOGGED TABLE {name} AS SELECT TIMESTAMPTZ '{T0.isoformat()}' + (g * interval '3600 seconds') / {rows}"
            f" AS timestamp, {feats} FROM generate_series(0, {rows - 1}) AS g")
        conn.exec_driver_sql(f"ANALYZE {name}")
    engine.dispose()
    return time.perf_counter() - t


def row_line(name: str, r: dict, rows: int | None = None) -> str:
    if r["rc"] != 0:
        tail = (r["stderr"].strip().splitlines() or ["?"])[-1][:100]
        return f"| {name} | - | {r['wall_s']:.1f} | {r['peak_mib']:.0f} | - | FAILED rc={r['rc']}: {tail} |"
    rows = r.get("rows", rows)
    extra = r.get("bytes_from_db")
    return (f"| {name} | {rows:,} | {r['wall_s']:.1f} | {r['peak_mib']:.0f} | {rows / r['wall_s']:,.0f} | "
            f"{'' if extra is None else f'{extra:,} B from the DB'} |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20_000_000)
    ap.add_argument("--memory-rows", type=int, default=2_000_000)
    ap.add_argument("--pg-rows", type=int, default=10_000_000)
    ap.add_argument("--pg-memory-rows", type=int, default=1_000_000)
    ap.add_argument("--skip-parquet", action="store_true")
    ap.add_argument("--skip-postgres", action="store_true")
    args = ap.parse_args()
    beside = Path(sys.executable).parent / "modeldash"
    modeldash = str(beside) if beside.exists() else shutil.which("modeldash")
    root = Path(tempfile.mkdtemp(prefix="modeldash-engines-", dir="/tmp"))
    os.chmod(root, 0o755)  # the `postgres` user reaches its cluster in root/pg
    lines = ["| run | rows scored | wall s | peak RSS MiB | rows/s | moved |", "|---|---|---|---|---|---|"]
    try:
        spec(root)
        write_parquet(root / "baseline.parquet", BASE_ROWS, 1, False)
        b = measure([modeldash, "baseline", str(root / "fleet.yaml"), "--input", str(root / "baseline.parquet"),
                     "-o", str(root / "baseline.json")])
        assert b["rc"] == 0, b
        if not args.skip_parquet:
            for rows, engine in ((args.rows, "stream"), (args.memory_rows, "stream"), (args.memory_rows, "memory")):
                path = root / f"prod-{rows}.parquet"
                if not path.exists():
                    t = time.perf_counter()
                    write_parquet(path, rows, 2, True)
                    print(f"wrote {rows:,} rows in {time.perf_counter() - t:.0f} s ({path.stat().st_size >> 20} MiB)",
                          flush=True)
                rep = root / f"r-{rows}-{engine}.json"
                r = run(drift_cmd(modeldash, root, str(path), engine, rep), rep)
                lines.append(row_line(f"Parquet, --engine {engine}", r, rows))
                print(lines[-1], flush=True)
                if engine == "stream" and rows == args.rows:
                    path.unlink()  # free the disk before the next size
        if not args.skip_postgres:
            port, stop = start_postgres(root / "pg", "-c shared_buffers=256MB", timeout=60)
            try:
                proxy = CountingProxy(port)
                direct = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
                via = f"postgresql+psycopg://postgres@127.0.0.1:{proxy.port}/postgres"
                sizes = ((args.pg_memory_rows, ("sql", "memory")), (args.pg_rows, ("sql",)))
                for rows, engines in [(n, e) for n, e in sizes if n > 0]:  # --pg-memory-rows 0: skip
                    name = f"inputs_{rows}"
                    print(f"generated {name} in {pg_table(direct, name, rows):.0f} s", flush=True)
                    for engine in engines:
                        rep = root / f"pg-{rows}-{engine}.json"
                        proxy.take()
                        r = run(drift_cmd(modeldash, root, f"table:{name}", engine, rep), rep, {"MODELDASH_DB_URL": via})
                        r["bytes_from_db"] = proxy.take()
                        lines.append(row_line(f"PostgreSQL table, --engine {engine}", r, rows))
                        print(lines[-1], flush=True)
            finally:
                stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"\n{len(FEATURES)} numeric features, baseline {BASE_ROWS:,} rows, window = the whole hour of data")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
