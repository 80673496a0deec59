"""promtool cases for the burn-rate alerts: a fast burn pages, a slow burn only tickets, a blip does neither.

The cases are computed, not guessed: each profile (healthy traffic, then a burn) is replayed
minute by minute through the same arithmetic Prometheus applies (``rate()`` with its
extrapolation, under both the 2.x closed and the 3.x left-open range), and a check is placed
only where every alternative is clearly on one side of its factor (5 % margin). Windows and
factors come from the spec, so overridden ones get their own cases.
"""
from __future__ import annotations

from modeldash.alerts.scenarios import Case, Feed, Scenario, example_labels, series_text
from modeldash.datasources.slo import AVAILABILITY, le_value
from modeldash.spec.base import make_uid

RATE = 10.0  # requests per second in the test series
MARGIN = 1.05
MAX_MINUTES = 600


def _feeds(ind) -> list[Feed]:
    """Series feeding the indicator; the value driving them is the error share."""
    b, t = ind.backend, ind.t
    if ind.objective == AVAILABILITY:
        bad = example_labels(b.count_metric + b.selector(t, (b.status_matcher("5xx"),)))
        good = example_labels(b.count_metric + b.selector(t, (b.status_matcher("2xx"),)))
        return [Feed(bad, "counter", lambda e: RATE * e), Feed(good, "counter", lambda e: RATE * (1 - e))]
    bucket = {**example_labels(b.histogram_metric + "_bucket" + b.selector(t)), "le": le_value(b, ind.threshold_s)}
    count = example_labels(b.histogram_metric + "_count" + b.selector(t))
    return [Feed(bucket, "counter", lambda e: RATE * (1 - e)), Feed(count, "counter", lambda e: RATE)]


def _cumulative(fn, shares: list[float]) -> list[float]:
    out, total = [], 0.0
    for e in shares:
        out.append(total)
        total += fn(e) * 60
    return out


def _rate(samples: list[float], t: int, w: int, closed: bool) -> float | None:
    """Prometheus' extrapolated ``rate()`` over ``w`` minutes at minute ``t`` (samples one a minute)."""
    lo = max(0, t - w if closed else t - w + 1)
    pts = list(range(lo, min(t, len(samples) - 1) + 1))
    if len(pts) < 2:
        return None
    first, last = samples[pts[0]], samples[pts[-1]]
    result = last - first
    sampled = (pts[-1] - pts[0]) * 60.0
    avg = sampled / (len(pts) - 1)
    to_start, to_end = (pts[0] - (t - w)) * 60.0, (t - pts[-1]) * 60.0
    if result > 0 and first >= 0:
        to_start = min(to_start, sampled * first / result)
    extra = (to_start if to_start < avg * 1.1 else avg / 2) + (to_end if to_end < avg * 1.1 else avg / 2)
    return result * (sampled + extra) / sampled / (w * 60.0)


class _Replay:
    """Burn rates of one profile at every minute, per window, as the recorded rules compute them."""

    def __init__(self, ind, shares: list[float]):
        self.ind = ind
        self.budget = 1 - ind.target
        self.series = [_cumulative(f.fn, shares) for f in _feeds(ind)]
        self._memo: dict = {}

    def burn(self, t: int, w: int, closed: bool) -> float | None:
        key = (t, w, closed)
        if key not in self._memo:
            self._memo[key] = self._burn(t, w, closed)
        return self._memo[key]

    def _burn(self, t: int, w: int, closed: bool) -> float | None:
        rates = [_rate(s, t, w, closed) for s in self.series]
        if any(r is None for r in rates):
            return None
        if self.ind.objective == AVAILABILITY:
            bad, total = rates[0], rates[0] + rates[1]
        else:
            bad, total = rates[1] - rates[0], rates[1]
        return None if total <= 0 else bad / total / self.budget

    def state(self, t: int, alts) -> str | None:
        """"fire" or "quiet" when both range semantics agree, each alternative clear of its factor by
        the margin; None when the outcome is too close to call."""
        seen = set()
        for closed in (True, False):
            burns = [[self.burn(t, int(w // 60), closed) for w in (a.long, a.short)] for a in alts]
            fire = any(all(x is not None and x > a.factor * MARGIN for x in bs) for a, bs in zip(alts, burns))
            quiet = all(any(x is None or x < a.factor / MARGIN for x in bs) for a, bs in zip(alts, burns))
            seen.add("fire" if fire else "quiet" if quiet else None)
        return seen.pop() if len(seen) == 1 else None


def _whole_minutes(slo) -> bool:
    return all(w % 60 == 0 and w >= 120 for w in slo.alert_windows())


def slo_cases(ind, slo, model) -> Scenario:
    """The page definition's scenario; every case states what page and ticket do."""
    uid = {k: make_uid("md", "ModelErrorBudgetBurn", model.name, f"{ind.objective}-{k}") for k in ("page", "ticket")}
    page, ticket = slo.alerts.page, slo.alerts.ticket
    budget = 1 - ind.target
    feeds = _feeds(ind)

    def series(runs):
        return [{"series": series_text(f.labels), "values": f.samples(runs)} for f in feeds]

    def shares(runs):
        return [e for e, n in runs for _ in range(n)]

    def expect(rp, t):
        # The alert may read the burn rate recorded this minute or the one before (Prometheus and
        # promtool evaluate rule groups independently): both must give the same answer.
        p, k = rp.state(t, page), rp.state(t, ticket)
        if p is None or k is None or (t > 0 and (rp.state(t - 1, page), rp.state(t - 1, ticket)) != (p, k)):
            return None
        return {uid[n]: 1.0 for n, s in (("page", p), ("ticket", k)) if s == "fire"}

    def fast():
        burn = min(1 / budget, 10 * max(a.factor for a in page))
        healthy = int(max(10, min(30, min(a.long for a in page) // 60)))
        runs = [(0.0, healthy), (burn * budget, MAX_MINUTES)]
        rp = _Replay(ind, shares(runs))
        for t in range(healthy, healthy + MAX_MINUTES - 1):
            exp = expect(rp, t)
            if exp and uid["page"] in exp:
                end = t + 1
                return Case(f"{ind.objective}: a fast burn ({burn:g}x) pages within {t - healthy} minutes",
                            series([(0.0, healthy), (burn * budget, end - healthy + 1)]),
                            [(healthy - 1, False), (t, True)], exp)
        return None

    def slow():
        burn = slo.slow_burn
        healthy = 30
        runs = [(0.0, healthy), (burn * budget, MAX_MINUTES)]
        rp = _Replay(ind, shares(runs))
        for t in range(healthy, healthy + MAX_MINUTES - 12):
            exp = expect(rp, t)
            later = expect(rp, t + 10)
            if exp == {uid["ticket"]: 1.0} and later == exp:
                quiet = [(m, False) for m in range(healthy, t, 10) if expect(rp, m) == {}]
                return Case(f"{ind.objective}: a slow burn ({burn:.3g}x) opens a ticket and does not page",
                            series([(0.0, healthy), (burn * budget, t + 12 - healthy)]),
                            [(healthy - 1, False)] + quiet + [(t, True), (t + 10, True)], exp)
        return None

    def blip():
        burn = min(1 / budget, 2 * max(a.factor for a in page))
        minutes = 3
        # once the blip leaves every page short window no page can follow; the long windows, which keep
        # the tickets quiet, only dilute it further
        settle = int(max(a.short for a in page) // 60) + 2
        for healthy in range(30, 481, 10):
            runs = [(0.0, healthy), (burn * budget, minutes), (0.0, settle)]
            rp = _Replay(ind, shares(runs))
            checks = list(range(healthy - 1, healthy + minutes + settle - 1))
            if all(expect(rp, t) == {} for t in checks):
                return Case(f"{ind.objective}: a {minutes}-minute blip ({burn:g}x) neither pages nor tickets",
                            series(runs), [(t, False) for t in checks])
        return None

    def sustainable():
        burn = min(a.factor for a in ticket) * 0.8
        rp = _Replay(ind, shares([(burn * budget, 32)]))
        checks = [t for t in (5, 15, 30) if expect(rp, t) == {}]
        return Case(f"{ind.objective}: burning at {burn:.3g}x (within budget) is quiet",
                    series([(burn * budget, 32)]), [(t, False) for t in checks]) if checks else None

    def cases(_uid, _for_s):
        if not _whole_minutes(slo):
            return []
        return [c for c in (fast(), slow(), blip(), sustainable()) if c is not None]

    return Scenario(feeds=[], breach=0, near=0, healthy=0, output_labels={}, custom=cases)


def no_cases() -> Scenario:
    """For the ticket definition: its expectations live in the page definition's cases."""
    return Scenario(feeds=[], breach=0, near=0, healthy=0, output_labels={}, custom=lambda _uid, _for_s: [])
