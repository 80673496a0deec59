"""``python -m modeldash.simulator [SPEC] [--port N]``: serve a fleet's simulated exporters.

Runs in its own process (e.g. for the benchmark, so the simulator's Python work does not
share a GIL with the client timing queries). Prints ``listening <host:port>``; stops on
SIGINT/SIGTERM.
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading

from modeldash.spec.fleet import SpecError, bundled_example, load_spec
from modeldash.simulator.server import Simulator


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m modeldash.simulator", description=__doc__.split("\n\n")[0])
    ap.add_argument("spec", nargs="?", help="fleet spec (default: the bundled example fleet)")
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    ap.add_argument("--scenario", default="healthy")
    ap.add_argument("--model", default=None)
    ap.add_argument("--cluster", default=None, help="cluster label value of every target (multi-cluster fleets)")
    args = ap.parse_args(argv)
    try:
        spec = load_spec(args.spec or bundled_example())
    except SpecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, lambda *_: stop.set())
    sim = Simulator(spec, port=args.port, cluster=args.cluster)
    try:
        sim.set_scenario(args.scenario, args.model)
    except KeyError as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 2
    with sim:
        print(f"listening {sim.address}", flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
