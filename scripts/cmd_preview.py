"""``modeldash preview``: draw dashboards from live data as offline HTML pages and PNGs.

Against a given Prometheus, or (no ``--prometheus``) against the workload simulator and a
local Prometheus that it starts, fills with data for ``--warmup`` seconds and stops again.
"""
from __future__ import annotations

import time
from pathlib import Path

import click

from modeldash.scripts.cli_common import BadInput, guarded, read_spec
from modeldash.scripts.cmd_live import PROMETHEUS_LISTEN, SIMULATOR_LISTEN, check_reachable, dashboards_from_files, demo_rules


def _select(boards: list[dict], uids: tuple[str, ...]) -> list[dict]:
    if not uids:
        return boards
    known = {b.get("uid") for b in boards}
    missing = [u for u in uids if u not in known]
    if missing:
        raise BadInput(f"--dashboard: no dashboard with uid {', '.join(map(repr, missing))}; "
                       f"known: {', '.join(sorted(str(k) for k in known))}")
    return [b for b in boards if b.get("uid") in set(uids)]


def _load(target: str | None):
    """(rendered files, fleet spec or None) from a SPEC file or a rendered folder."""
    from modeldash.scripts.lint_output import read_tree
    from modeldash.scripts.render import build_files

    if target and Path(target).is_dir():
        return read_tree(Path(target)), None
    fleet, _ = read_spec(target)
    files, _ = build_files(fleet, Path("out"))
    return files, fleet


@click.command("preview")
@click.argument("target", required=False, type=click.Path(path_type=str))
@click.option("--prometheus", "prometheus_url", metavar="URL", default=None,
              help="Prometheus to query (default: start the simulator and a local Prometheus).")
@click.option("-o", "--out", "out_dir", default="preview", show_default=True, type=click.Path(file_okay=False),
              help="Folder for <uid>.html and <uid>.png (created; files of the same names are replaced).")
@click.option("--from", "from_", default="-1h", show_default=True,
              help="Start of the time range, relative to now (e.g. -30m, now-6h); the range ends now.")
@click.option("--dashboard", "uids", multiple=True, metavar="UID", help="Only this dashboard (repeatable).")
@click.option("--changed", "base_dir", default=None, type=click.Path(path_type=Path),
              help="Only dashboards whose JSON differs from this earlier render (e.g. the base branch's).")
@click.option("--scrape-interval", default=None,
              help="The datasource's scrape interval for $__rate_interval [default: 15s; for the simulator 1s, +1s per 25 models].")
@click.option("--width", default=1600, show_default=True, type=click.IntRange(800, 4000), help="Page width in pixels.")
@click.option("--warmup", default=60.0, show_default=True, type=click.FloatRange(5, 3600),
              help="Without --prometheus: seconds of simulated data to collect before drawing.")
@click.option("--scenario", default="healthy", show_default=True, help="Without --prometheus: the simulator's scenario.")
@click.option("--chromium", "chromium_bin", default="/usr/bin/chromium", show_default=True, metavar="PATH",
              help="The headless browser that takes the pictures (Debian's chromium).")
@SIMULATOR_LISTEN
@PROMETHEUS_LISTEN
@guarded
def preview_cmd(target, prometheus_url, out_dir, from_, uids, base_dir, scrape_interval, width, warmup, scenario,
                chromium_bin, simulator_listen, prometheus_listen):
    """Draw each dashboard of TARGET (a SPEC, a rendered folder, default: the bundled example fleet)
    from live data: one self-contained HTML page (opens offline) and one PNG per dashboard.

    \b
    Examples:
      modeldash preview -o preview                              # simulator + local Prometheus
      modeldash preview out --prometheus http://prom:9090 --from -6h
      modeldash preview fleet.yaml --changed base-out -o preview   # pull requests
    """
    from modeldash.preview.timerange import RangeError, parse_duration, parse_from
    from modeldash.scripts.browser import BrowserError, Chromium
    from modeldash.scripts.preview import changed_dashboards, write_previews

    from modeldash.scripts.live_stack import simulator_interval

    files, fleet = _load(target)
    try:
        back = parse_from(from_)
        scrape = parse_duration(scrape_interval or ("15s" if prometheus_url or fleet is None else f"{simulator_interval(fleet)}s"))
    except RangeError as exc:
        raise BadInput(f"--from/--scrape-interval: {exc}") from None
    boards = dashboards_from_files(files)
    if base_dir is not None:
        boards = changed_dashboards(files, base_dir)
    boards = _select(boards, uids)
    if not boards:
        click.echo(f"preview: no dashboards to draw{' (none changed)' if base_dir else ''}")
        return
    t0 = time.monotonic()
    stack = None
    try:
        if prometheus_url:
            check_reachable(prometheus_url)
            url, start_floor = prometheus_url, None
        else:
            if fleet is None:
                raise BadInput(f"{target}: a rendered folder needs --prometheus; give the SPEC to preview against the simulator")
            stack = _start_stack(fleet, simulator_listen, prometheus_listen, scenario, warmup, int(scrape))
            url, start_floor = stack.url, stack.started_at + 10  # the first rate() windows are still filling
        end = time.time()
        start = end - back if start_floor is None else max(end - back, start_floor)

        def progress(p):
            states = ", ".join(f"{n} {s}" for s, n in sorted(p.states.items()))
            click.echo(f"  {p.uid}: {p.png} ({p.height}px; panels {states or 'none'}) {p.seconds:.1f}s")

        try:
            with Chromium(chromium_bin) as browser:
                previews = write_previews(boards, url, Path(out_dir), start, end, scrape, width, browser, progress)
        except BrowserError as exc:
            raise BadInput(f"--chromium: {exc}") from None
    finally:
        if stack is not None:
            stack.stop()
    click.echo(f"preview: {len(previews)} dashboards -> {out_dir}/ in {time.monotonic() - t0:.1f}s")


def _start_stack(fleet, simulator_listen: str, prometheus_listen: str, scenario: str, warmup: float, interval: int):
    from modeldash.scripts.live_stack import LiveStack, fast_evaluation, parse_listen
    from modeldash.simulator import SCENARIOS

    if scenario not in SCENARIOS:
        raise BadInput(f"--scenario: unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
    listen = parse_listen("--simulator-listen", simulator_listen), parse_listen("--prometheus-listen", prometheus_listen)
    rules = fast_evaluation(demo_rules(fleet), f"{max(5, interval)}s")
    stack = LiveStack(fleet, rules, *listen, scenario=scenario, interval=f"{max(1, interval)}s").start()
    try:
        click.echo(f"preview: simulator http://{stack.sim.address}/ and Prometheus {stack.url}; "
                   f"collecting {warmup:.0f}s of data")
        stack.wait_scraped()
        time.sleep(max(0.0, warmup - (time.time() - stack.started_at)))
    except BaseException:
        stack.stop()
        raise
    return stack
