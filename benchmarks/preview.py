"""Preview time: the example fleet's dashboards, and dashboards of a generated N-model fleet.

Run by hand:  python benchmarks/preview.py [N_MODELS [WARMUP_SECONDS]]   (default 100, 40)
Starts the simulator and Prometheus for each fleet, lets data accumulate for WARMUP seconds,
then times ``write_previews`` (queries + page + Chromium screenshot) per dashboard. The warm-up
is not part of the figures (``modeldash preview`` without ``--prometheus`` adds it).
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fleet import fleet_data  # noqa: E402

from modeldash.alerts.build import prometheus_rules  # noqa: E402
from modeldash.dashboards.build import build_dashboards  # noqa: E402
from modeldash.spec.fleet import bundled_example, load_spec, load_spec_data  # noqa: E402
from modeldash.scripts.browser import Chromium  # noqa: E402
from modeldash.scripts.live_stack import LiveStack, fast_evaluation, simulator_interval  # noqa: E402
from modeldash.scripts.preview import write_previews  # noqa: E402


def run(label: str, spec, warmup: float, only: set[str] | None, browser: Chromium) -> None:
    boards = [d.json for d in build_dashboards(spec)]
    if only:
        boards = [b for b in boards if b["uid"] in only]
    interval = simulator_interval(spec)
    rules = fast_evaluation(prometheus_rules(spec), f"{max(5, interval)}s")
    with LiveStack(spec, rules, interval=f"{interval}s") as stack, tempfile.TemporaryDirectory() as out:
        stack.wait_scraped(120)
        time.sleep(max(0.0, warmup - (time.time() - stack.started_at)))
        end = time.time()
        t0 = time.perf_counter()
        previews = write_previews(boards, stack.url, Path(out), stack.started_at + 10, end, interval, browser=browser)
        total = time.perf_counter() - t0
    for p in previews:
        n_series = p.states
        print(f"  {label}: {p.uid:32s} {p.seconds:6.2f}s  {p.height}px  panels {n_series}")
    print(f"{label}: {len(previews)} dashboards in {total:.2f}s (after {warmup:.0f}s of data, {interval}s scrapes)")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    warmup = float(sys.argv[2]) if len(sys.argv) > 2 else 40.0
    with Chromium() as browser:
        run("example fleet", load_spec(bundled_example()), warmup, None, browser)
        big = load_spec_data(fleet_data(n), "generated")
        run(f"{n}-model fleet", big, warmup, {"md-fleet", "md-platform", "md-model-model-0000"}, browser)


if __name__ == "__main__":
    main()
