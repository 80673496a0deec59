"""The alert catalogue: every alert defined ONCE as an ``AlertDefinition``.

A definition holds the PromQL condition (expression, operator, threshold), ``for``, labels,
annotations, the panel that explains it and the promtool scenario that proves it. The
Grafana rules, the Prometheus rules and the promtool tests are all rendered from it, so the
twins cannot disagree. Every expression comes from ``datasources/`` (the same functions the
panels call); the per-model serving alerts read the recorded ``model:*`` series, in seconds and
ratios whatever the backend, so every latency threshold is in seconds.
"""
from __future__ import annotations

import functools
from collections import Counter, defaultdict

import re
from dataclasses import dataclass, field

from modeldash.alerts.cluster_scope import scoped_definitions
from modeldash.spec.alert_names import ALERT_NAMES
from modeldash.alerts.scenarios import Case, Feed, Scenario, compress, example_labels, series_text, thin
from modeldash.alerts.slo_rules import add_slo_alerts
from modeldash.dashboards.panel_keys import panel_link
from modeldash.spec.alerting import MANAGED_LABEL
from modeldash.spec.base import format_duration, make_uid
from modeldash.datasources import cadvisor, kube_state, node, recorded
from modeldash.datasources import metrics as M
from modeldash.datasources import model_signals as signals
from modeldash.datasources.backends import target_of

W = "5m"  # rate window of every alert expression
STALE_FOR = 900  # ModelMonitoringJobStale: the upstream idiom for absent()-style alerts is 15m

# noDataState / execErrState, chosen per alert (see docs/alerts.md):
# - "filter" expressions return series only for offending objects: no data is the healthy case.
# - "signal" expressions return a series per object that exists: no data means the exporter is
#   gone, which Grafana surfaces as a DatasourceNoData alert rather than as this alert.
# - a failing query is never silently OK: execErrState Error raises DatasourceError.
NODATA_HEALTHY, NODATA_SIGNAL, NODATA_FIRE = "OK", "NoData", "Alerting"
EXEC_ERR = "Error"


@dataclass(frozen=True)
class AlertDefinition:
    name: str
    layer: str
    severity: str
    model: str | None
    expr: str  # the condition's expression, without the comparison
    op: str
    threshold: float
    for_: float  # seconds
    labels: dict
    summary: str  # text with {value} and {<label>} placeholders
    description: str
    runbook_url: str
    panel: tuple[str, int]  # (dashboard uid, panel id)
    group: str
    key: str = ""  # what tells same-name definitions apart (severity, feature, class, metric)
    value_format: str = "number"  # percent | number | duration
    no_data_state: str = NODATA_HEALTHY
    exec_err_state: str = EXEC_ERR
    namespace: str | None = None
    scenario: Scenario | None = field(default=None, compare=False, repr=False)

    @functools.cached_property  # asked for by every output (rules, groups, tests, lint)
    def uid(self) -> str:
        return make_uid("md", self.name, self.model or self.namespace or "", self.key)

    @property
    def title(self) -> str:
        """Grafana title: unique in the folder (Grafana before 12 requires it), name first."""
        parts = [p for p in (self.model or self.namespace, self.key) if p]
        return f"{self.name} ({', '.join(parts)})" if parts else self.name

    @property
    def threshold_text(self) -> str:
        return fmt_number(self.threshold)

    @property
    def condition(self) -> str:
        """The full PromQL alert condition (the Prometheus ``expr``)."""
        return f"({self.expr}) {self.op} {self.threshold_text}"

    @property
    def for_text(self) -> str:
        return format_duration(self.for_)

    def fires(self, value: float) -> bool:
        return {">": value > self.threshold, "<": value < self.threshold,
                ">=": value >= self.threshold, "<=": value <= self.threshold}[self.op]


def fmt_number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


# --------------------------------------------------------------------------- templates

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_VALUE_FN = {"percent": "humanizePercentage", "duration": "humanizeDuration"}


@functools.lru_cache(maxsize=4096)  # one text per alert name and layer, asked for once per model
def render_template(text: str, value_ref: str, fmt: str) -> str:
    """``{value}`` and ``{label}`` placeholders as a Go template (Prometheus or Grafana)."""

    def sub(m):
        name = m.group(1)
        if name == "value":
            fn = _VALUE_FN.get(fmt)
            return f"{{{{ {value_ref} | {fn} }}}}" if fn else f'{{{{ printf "%.4g" {value_ref} }}}}'
        return f"{{{{ $labels.{name} }}}}"

    return _PLACEHOLDER.sub(sub, text)


def expand_template(text: str, labels: dict, value: float, fmt: str) -> str:
    """What Prometheus will produce from ``render_template`` for given labels and value."""
    from modeldash.alerts.scenarios import _g4, humanize_duration, humanize_percentage

    def sub(m):
        name = m.group(1)
        if name == "value":
            return {"percent": humanize_percentage, "duration": humanize_duration}.get(fmt, _g4)(value)
        return labels.get(name, "")

    return _PLACEHOLDER.sub(sub, text)


# --------------------------------------------------------------------------- builder


class _Builder:
    def __init__(self, spec):
        self.spec = spec
        self.defs: list[AlertDefinition] = []
        self.skipped: list[tuple[str, str, str]] = []  # (alert, model, why)
        self.fleet_team = spec.labels.get("team", "unowned")
        self.stale_jobs: list[tuple[str, str]] = []  # every (model, job) with a staleness alert
        self.stale_tested: set[tuple[str, float]] = set()  # (job, threshold) shapes with promtool cases
        self.stale_series: dict = {}  # _job_series' cache

    def runbook(self, name: str, model=None) -> str:
        base = (model.runbook_url if model is not None and model.runbook_url else None) or \
            self.spec.alerting.runbook_base_url
        return f"{base}#{name.lower()}"

    def labels(self, severity: str, layer: str, name: str, team: str, **extra) -> dict:
        out = {k: v for k, v in self.spec.labels.items()}
        out.update({"severity": severity, "team": team, "layer": layer, "modeldash_alert": name,
                    MANAGED_LABEL[0]: MANAGED_LABEL[1]})
        out.update({k: v for k, v in extra.items() if v is not None})
        return out

    def add(self, **kw):
        if kw["name"] not in ALERT_NAMES:
            raise RuntimeError(f"alert {kw['name']!r} is missing from modeldash.spec.alert_names.ALERT_NAMES")
        if kw["name"] in self.spec.alerting.disabled_alerts:
            return
        self.defs.append(AlertDefinition(**kw))


def _gauge_scenario(feeds, breach, near, healthy, out, **kw) -> Scenario:
    return Scenario(feeds=feeds, breach=breach, near=near, healthy=healthy, output_labels=out, **kw)


def _rate_scenario(feeds, breach, near, healthy, out, **kw) -> Scenario:
    # rate() over a window divides by the whole window: constant input reads true only once the
    # window is covered, so the condition starts after ``warmup`` = the window.
    return Scenario(feeds=feeds, breach=breach, near=near, healthy=healthy, output_labels=out,
                    warmup=5, window=5, **kw)


def _levels(op: str, thr: float, cap: float | None = None):
    """(breach, near, healthy) values around a threshold, on each side of it."""
    if op in (">", ">="):
        b = thr * 1.5 if thr else 1.0
        if cap is not None:
            b = min(b, cap)
        return b, thr * 0.9, thr * 0.5
    return thr * 0.8, min(thr * 1.1, cap) if cap else thr * 1.1, min(thr * 1.25, cap) if cap else thr * 1.25


# --------------------------------------------------------------------------- infrastructure


def _infrastructure(b: _Builder):
    inf = b.spec.infrastructure
    group = "modeldash-infrastructure"
    nodel = node.JOB_LABELS
    inst = "node-1:9100"
    specs = [
        ("HighNodeCPUUsage", inf.node_cpu, node.cpu_utilisation(W), "infra.node_cpu", "CPU",
         lambda: ([Feed({"__name__": "node_cpu_seconds_total", **nodel, "cpu": "0", "mode": "idle", "instance": inst},
                        "counter", lambda v: 1 - v)], {"instance": inst, **nodel}, True)),
        ("HighNodeMemoryUsage", inf.node_memory, node.memory_utilisation(), "infra.node_memory", "memory",
         lambda: ([Feed({"__name__": "node_memory_MemAvailable_bytes", **nodel, "instance": inst}, "gauge",
                        lambda v: (1 - v) * 16e9),
                   Feed({"__name__": "node_memory_MemTotal_bytes", **nodel, "instance": inst}, "gauge",
                        lambda v: 16e9)], {"instance": inst}, False)),
        ("NodeDiskAlmostFull", inf.node_disk, node.disk_usage(), "infra.node_disk", "disk",
         lambda: ([Feed({"__name__": m, **nodel, "instance": inst, "device": "/dev/sda1", "mountpoint": "/",
                         "fstype": "ext4"}, "gauge", fn)
                   for m, fn in (("node_filesystem_avail_bytes", lambda v: (1 - v) * 1e11),
                                 ("node_filesystem_size_bytes", lambda v: 1e11))],
                  {"instance": inst, "device": "/dev/sda1", "mountpoint": "/"}, False)),
    ]
    for name, levels, expr, panel, what, feeds_fn in specs:
        pairs = [(s, getattr(levels, s)) for s in ("warning", "critical") if getattr(levels, s) is not None]
        for sev, thr in pairs:
            feeds, out, is_rate = feeds_fn()
            br, near, healthy = _levels(">", thr, cap=0.999)
            shared = {}
            maker = _rate_scenario if is_rate else _gauge_scenario
            others = [(s2, t2) for s2, t2 in pairs if s2 != sev]
            defn_key = sev if len(pairs) > 1 else ""
            for s2, _t2 in others:
                shared[make_uid("md", name, "", s2)] = lambda v: v
            b.add(name=name, layer="infrastructure", severity=sev, model=None, expr=expr, op=">", threshold=thr,
                  for_=levels.for_, labels=b.labels(sev, "infrastructure", name, b.fleet_team),
                  summary=f"Node {{instance}} {what} usage above {fmt_number(thr * 100)}%",
                  description=f"{what} usage of node {{instance}} is {{value}}, above {fmt_number(thr * 100)}% "
                              f"for {format_duration(levels.for_)}.",
                  runbook_url=b.runbook(name), panel=panel_link("infrastructure", panel), group=group,
                  key=defn_key, value_format="percent", no_data_state=NODATA_SIGNAL,
                  scenario=maker(feeds, br, near, healthy, out, shared=shared))
    expr = kube_state.node_ready()
    feed = Feed({"__name__": "kube_node_status_condition", **kube_state.JOB_LABELS, "condition": "Ready",
                 "status": "true", "node": "node-1"}, "gauge")
    b.add(name="NodeNotReady", layer="infrastructure", severity="warning", model=None, expr=expr, op="<",
          threshold=1, for_=inf.node_not_ready_for,
          labels=b.labels("warning", "infrastructure", "NodeNotReady", b.fleet_team),
          summary="Node {node} is not Ready",
          description=f"Node {{node}} has not been Ready for {format_duration(inf.node_not_ready_for)}.",
          runbook_url=b.runbook("NodeNotReady"), panel=panel_link("infrastructure", "infra.node_ready"),
          group=group, no_data_state=NODATA_SIGNAL,
          scenario=_gauge_scenario([feed], 0, 1, 1, {"node": "node-1"}))


# --------------------------------------------------------------------------- platform


def _namespaces(spec) -> dict[str, str]:
    """Model namespaces and the team that owns each (the fleet team when teams share one)."""
    teams: dict[str, set] = {}
    for m in spec.models:
        teams.setdefault(m.namespace, set()).add(spec.team_of(m))
    return {ns: (next(iter(t)) if len(t) == 1 else spec.labels.get("team", "unowned")) for ns, t in sorted(teams.items())}


def _platform(b: _Builder):
    p = b.spec.platform
    group = "modeldash-platform"
    ksml = kube_state.JOB_LABELS
    for ns, team in _namespaces(b.spec).items():
        scope = f'namespace="{ns}"'
        pod = f"{ns}-predictor-00001-deployment-abc12"
        podl = {"namespace": ns, "pod": pod}
        ctr = {**podl, "container": "kserve-container"}

        def add(name, sev, expr, op, thr, for_, panel, summary, desc, scenario, fmt="number", key=""):
            b.add(name=name, layer="platform", severity=sev, model=None, namespace=ns, expr=expr, op=op,
                  threshold=thr, for_=for_, labels=b.labels(sev, "platform", name, team, namespace=ns),
                  summary=summary, description=desc, runbook_url=b.runbook(name),
                  panel=panel_link("platform", panel), group=group, key=key, value_format=fmt,
                  no_data_state=NODATA_HEALTHY, scenario=scenario)

        # PodNotRunning: Pending/Unknown/Failed only (a Succeeded pod of a finished Job is fine), and
        # never Job-owned pods (a failed try of the drift job is ModelMonitoringJobStale's business).
        expr = f"max by (namespace, pod) ({kube_state.pods_not_running(scope)})"

        def phases(pod_name, current_fn, owner_kind=None):
            feeds = [Feed({"__name__": "kube_pod_status_phase", **ksml, "namespace": ns, "pod": pod_name, "phase": ph},
                          "gauge", (lambda ph: (lambda v: current_fn(v, ph)))(ph))
                     for ph in ("Pending", "Running", "Succeeded", "Failed", "Unknown")]
            if owner_kind:
                feeds.append(Feed({"__name__": "kube_pod_owner", **ksml, "namespace": ns, "pod": pod_name,
                                   "owner_kind": owner_kind, "owner_name": "x", "owner_is_controller": "true"},
                                  "gauge", lambda v: 1))
            return feeds

        def const_case(title, feeds, minutes):
            return Case(title, [{"series": series_text(f.labels), "values": f.samples([(0, minutes)])} for f in feeds],
                        [(minutes - 2, False)])

        job_pod = f"{ns}-drift-job-29000000-xyz12"
        extra = [
            const_case("quiet for a Succeeded pod of a finished Job",
                       phases(job_pod, lambda v, ph: 1 if ph == "Succeeded" else 0, "Job"), 20),
            const_case("quiet for a Failed try of a Job (the job alert covers it)",
                       phases(job_pod, lambda v, ph: 1 if ph == "Failed" else 0, "Job"), 20),
        ]
        running_or_pending = phases(pod, lambda v, ph: (v if ph == "Pending" else (1 - v) if ph == "Running" else 0),
                                    "ReplicaSet")
        add("PodNotRunning", "warning", expr, ">", 0, p.pod_not_running_for, "platform.not_running",
            "Pod {pod} in {namespace} is not running",
            f"Pod {{pod}} in namespace {{namespace}} has been Pending, Unknown or Failed for "
            f"{format_duration(p.pod_not_running_for)}.",
            _gauge_scenario(running_or_pending, 1, 0, 0, podl, extra=extra))

        expr = kube_state.crash_looping(scope)
        add("PodCrashLooping", "critical", expr, ">", 0, p.crash_loop_for, "platform.crash_loops",
            "Container {container} of pod {pod} is crash-looping",
            f"Container {{container}} of pod {{pod}} in {{namespace}} has been in CrashLoopBackOff for "
            f"{format_duration(p.crash_loop_for)}.",
            _gauge_scenario([Feed({"__name__": "kube_pod_container_status_waiting_reason", **ksml, **ctr,
                                   "reason": "CrashLoopBackOff"}, "gauge")], 1, 0, 0, ctr))

        expr = kube_state.restarts(scope)
        thr = p.restarts_in_5m
        add("FrequentPodRestarts", "warning", expr, ">", thr, 300, "platform.restarts",
            "Container {container} of pod {pod} restarts often",
            f"Container {{container}} of pod {{pod}} in {{namespace}} restarted {{value}} times in 5m "
            f"(more than {thr}).",
            _rate_scenario([Feed({"__name__": "kube_pod_container_status_restarts_total", **ksml, **ctr}, "counter",
                                 lambda v: v / 300)], thr * 1.5 + 1, thr * 0.9, 0, ctr))

        dep = f"{ns}-predictor"
        expr = kube_state.replicas_missing_without_rollout(scope)
        dl = {"namespace": ns, "deployment": dep}
        add("DeploymentReplicasMismatch", "critical", expr, ">", 0, p.replicas_mismatch_for, "platform.replicas",
            "Deployment {deployment} is missing replicas",
            f"Deployment {{deployment}} in {{namespace}} has had {{value}} fewer available replicas than desired "
            f"for {format_duration(p.replicas_mismatch_for)}, with no rollout progress.",
            _gauge_scenario([Feed({"__name__": "kube_deployment_spec_replicas", **ksml, **dl}, "gauge", lambda v: 3),
                             Feed({"__name__": "kube_deployment_status_replicas_available", **ksml, **dl}, "gauge",
                                  lambda v: 3 - v),
                             Feed({"__name__": "kube_deployment_status_replicas_updated", **ksml, **dl}, "gauge",
                                  lambda v: 3)], 1, 0, 0, dl))

        hpa = kube_state.HPA
        expr = kube_state.hpa_at_max(scope)
        hl = {"namespace": ns, hpa: dep}
        add("HPAMaxedOut", "warning", expr, ">=", 1, p.hpa_maxed_for, "platform.hpa",
            "HPA {horizontalpodautoscaler} is at its maximum replicas",
            f"HPA {{horizontalpodautoscaler}} in {{namespace}} has run at {{value}} of its maximum replicas for "
            f"{format_duration(p.hpa_maxed_for)}.",
            _gauge_scenario([Feed({"__name__": "kube_horizontalpodautoscaler_status_current_replicas", **ksml, **hl}, "gauge",
                                  lambda v: 10 * v),
                             Feed({"__name__": "kube_horizontalpodautoscaler_spec_max_replicas", **ksml, **hl}, "gauge",
                                  lambda v: 10),
                             Feed({"__name__": "kube_horizontalpodautoscaler_spec_min_replicas", **ksml, **hl}, "gauge",
                                  lambda v: 2)], 1, 0.9, 0.5, hl), fmt="percent")

        ratio = p.container_limit_ratio
        cad_l = {**cadvisor.JOB_LABELS, **ctr, "image": "kserve/sklearnserver:v0.14"}
        for name, res, panel, kind, limit in (
            ("ContainerNearCPULimit", "cpu", "platform.container_cpu", "counter", 2.0),
            ("ContainerNearMemoryLimit", "memory", "platform.container_memory", "gauge", 2 ** 31),
        ):
            expr = cadvisor.usage_against_limit(res, scope, W)
            metric = cadvisor.RESOURCES[res]
            feeds = [Feed({"__name__": metric, **cad_l}, kind, (lambda lim: lambda v: v * lim)(limit)),
                     Feed({"__name__": "kube_pod_container_resource_limits", **ksml, **ctr, "resource": res,
                           "unit": "core" if res == "cpu" else "byte"}, "gauge", (lambda lim: lambda v: lim)(limit))]
            br, near, healthy = _levels(">", ratio, cap=0.999 if ratio < 0.95 else None)
            maker = _rate_scenario if kind == "counter" else _gauge_scenario
            add(name, "warning", expr, ">", ratio, p.container_limit_for, panel,
                f"Container {{container}} of pod {{pod}} is near its {res} limit",
                f"Container {{container}} of pod {{pod}} in {{namespace}} uses {{value}} of its {res} limit "
                f"(above {fmt_number(ratio * 100)}% for {format_duration(p.container_limit_for)}).",
                maker(feeds, max(br, ratio * 1.05), near, healthy, ctr), fmt="percent")


# --------------------------------------------------------------------------- serving


def _serving(b: _Builder, m):
    spec = b.spec
    backend = spec.backend_for(m)
    t = target_of(m)
    group = f"modeldash-model-{m.name}"
    th = m.thresholds
    team = spec.team_of(m)

    def labels(sev, name):
        return b.labels(sev, "serving", name, team, model=m.name, namespace=m.namespace, **m.labels)

    # The serving alerts read the recorded series (seconds, ratios): the recording rule computes
    # the quantile and the ratio once; the scenarios still feed the backend's raw series.
    expr = recorded.selector(recorded.LATENCY_P95, t)
    bucket = backend.histogram_metric + "_bucket"
    for name, sev, level in (("ModelLatencyP95High", "warning", th.latency_p95.warning),
                             ("ModelLatencyP95Critical", "critical", th.latency_p95.critical)):
        if level is None:
            b.skipped.append((name, m.name, f"latency_p95.{sev} is not set"))
            continue
        thr = level  # seconds, like the recorded series
        lo, hi = thr * 0.8, thr * 2.0  # two buckets around the threshold: p95 is then linear in the slow share

        def slow_share(v, lo=lo, hi=hi):
            if v <= lo:
                return max(0.0, 1 - 0.95 * lo / v)
            return 0.05 / (1 - (v - lo) / (hi - lo))

        base = example_labels(bucket + backend.selector(t))
        rate = 10.0
        le_lo, le_hi = (fmt_number(backend.latency_threshold(x)) for x in (lo, hi))  # the histogram's unit
        feeds = [Feed({**base, "le": le_lo}, "counter", lambda v, share=slow_share: rate * (1 - share(v))),
                 Feed({**base, "le": le_hi}, "counter", lambda v: rate),
                 Feed({**base, "le": "+Inf"}, "counter", lambda v: rate)]
        b.add(name=name, layer="serving", severity=sev, model=m.name, namespace=m.namespace, expr=expr, op=">",
              threshold=thr, for_=th.latency_p95.for_, labels=labels(sev, name),
              summary=f"p95 latency of {m.name} above {_ms(thr)}",
              description=f"p95 latency of model {m.name} (namespace {m.namespace}) is {{value}}, above "
                          f"{_ms(thr)} for {format_duration(th.latency_p95.for_)}.",
              runbook_url=b.runbook(name, m), panel=panel_link("model", "serving.latency", m.name), group=group,
              value_format="duration", no_data_state=NODATA_HEALTHY,
              scenario=_rate_scenario(feeds, thr * 1.5, thr * 0.9, thr * 0.78, {}))

    errors = spec.error_backend_for(m)
    if errors is None:
        b.skipped.append(("ModelErrorRateHigh", m.name,
                          f"backend {backend.name!r} has no status codes and no error_backend is set"))
    else:
        expr = recorded.selector(recorded.ERROR_RATIO, t)
        levels = [(s, getattr(th.error_ratio, s)) for s in ("warning", "critical")
                  if getattr(th.error_ratio, s) is not None]
        for sev, thr in levels:
            bad = example_labels(errors.count_metric + errors.selector(t, (errors.status_matcher("5xx"),)))
            good = example_labels(errors.count_metric + errors.selector(t, (errors.status_matcher("2xx"),)))
            feeds = [Feed(bad, "counter", lambda v: 10 * v), Feed(good, "counter", lambda v: 10 * (1 - v))]
            shared = {make_uid("md", "ModelErrorRateHigh", m.name, s2): (lambda v: v) for s2, _ in levels if s2 != sev}
            b.add(name="ModelErrorRateHigh", layer="serving", severity=sev, model=m.name, namespace=m.namespace,
                  expr=expr, op=">", threshold=thr, for_=th.error_ratio.for_, labels=labels(sev, "ModelErrorRateHigh"),
                  summary=f"5xx ratio of {m.name} above {fmt_number(thr * 100)}%",
                  description=f"{{value}} of the requests to model {m.name} (namespace {m.namespace}) failed with 5xx "
                              f"for {format_duration(th.error_ratio.for_)} (threshold {fmt_number(thr * 100)}%).",
                  runbook_url=b.runbook("ModelErrorRateHigh", m),
                  panel=panel_link("model", "serving.error_ratio", m.name), group=group, key=sev,
                  value_format="percent", no_data_state=NODATA_HEALTHY,
                  scenario=_rate_scenario(feeds, min(thr * 1.5, 1.0), thr * 0.9, min(t for _, t in levels) * 0.5, {},
                                          shared=shared))

    tr = th.traffic
    # sum() first: the recorded series carries labels, and a bare `or vector(0)` would add a
    # second, label-less series that is 0 whenever the model has traffic (and fire for every model).
    # "Had traffic before" reads the same recording over the lookback: right after a Prometheus
    # restart the recording does not exist yet, so the alert waits for it instead of seeing 0.
    now = f"sum({recorded.selector(recorded.REQUEST_RATE, t)})"
    before = f"sum(max_over_time({recorded.selector(recorded.REQUEST_RATE, t)}[{format_duration(tr.lookback)}]))"
    expr = f"({now} or vector(0)) and on () ({before} > 0)"
    feed = Feed(example_labels(backend.count_metric + backend.selector(t)), "counter")
    uid = make_uid("md", "ModelTrafficStopped", m.name, "")
    b.add(name="ModelTrafficStopped", layer="serving", severity="critical", model=m.name, namespace=m.namespace,
          expr=expr, op="<=", threshold=tr.floor_rps, for_=tr.for_, labels=labels("critical", "ModelTrafficStopped"),
          summary=f"Model {m.name} stopped receiving traffic",
          description=f"Model {m.name} (namespace {m.namespace}) has served {{value}} requests/s for "
                      f"{format_duration(tr.for_)} after serving traffic in the {format_duration(tr.lookback)} before "
                      f"(its series may have vanished: pods gone or no longer scraped).",
          runbook_url=b.runbook("ModelTrafficStopped", m), panel=panel_link("model", "serving.request_rate", m.name),
          group=group, no_data_state=NODATA_HEALTHY,
          scenario=Scenario(feeds=[feed], breach=0, near=0, healthy=0,
                            custom=_traffic_cases(feed, tr.floor_rps, tr.lookback, uid)))


def _ms(seconds: float) -> str:
    """A latency level as people write it: 500 ms, 1500 ms (thresholds are in seconds)."""
    return f"{fmt_number(round(seconds * 1000, 6))} ms"


def _traffic_cases(feed: Feed, floor: float, lookback: float, uid: str):
    def cases(_uid, for_s):
        f = int(for_s // 60)
        rate = max(5.0, floor * 10)
        lb = int(lookback // 60)
        busy = 30
        stop_seen = busy + 5  # rate() over 5m sees no samples five minutes after the last one
        end = stop_seen + f + 4

        def series(profile):
            return [{"series": series_text(feed.labels), "values": feed.samples(profile)}]

        gap = 5 + max(1, f // 2 - 1)
        return [
            Case("fires when the series vanish after traffic", series([(rate, busy), (None, end - busy)]),
                 [(busy + f - 1, False), (stop_seen + f + 2, True)], {uid: 0.0}),
            Case("fires when traffic drops to zero (flat counter)", series([(rate, busy), (0, end - busy)]),
                 [(stop_seen + f + 2, True)], {uid: 0.0}),
            Case("quiet just above the floor", series([(rate, busy), (floor + 0.05, end - busy)]),
                 [(stop_seen + f + 2, True)], {uid: floor + 0.05}),
            Case("quiet for a pause shorter than for", series([(rate, busy), (0, gap), (rate, end - busy - gap)]),
                 [(m, False) for m in thin(list(range(busy, end)), 1)]),
            Case("quiet on steady traffic", series([(rate, end)]), [(end - 1, True)], {uid: rate}),
            Case("quiet for a model without traffic in the lookback (no data)",
                 [], [(lb + 15, False)]),
        ]

    return cases


# --------------------------------------------------------------------------- model behaviour


def _behaviour(b: _Builder, m):
    spec = b.spec
    th = m.thresholds
    group = f"modeldash-model-{m.name}"
    team = spec.team_of(m)

    def labels(sev, name, **extra):
        return b.labels(sev, "model", name, team, model=m.name, namespace=m.namespace, **m.labels, **extra)

    if m.task == "classification":
        cs = th.class_share
        classes = sorted(m.classes.items())
        bounds = []
        for cls, base in classes:
            if base - cs.tolerance > 0:
                bounds.append((cls, base, "<", base - cs.tolerance, "low"))
            if base + cs.tolerance < 1:
                bounds.append((cls, base, ">", base + cs.tolerance, "high"))
        feeds_for = {}

        def share_feeds(cls):
            if cls not in feeds_for:
                base_c = m.classes[cls]
                feeds_for[cls] = [
                    Feed({"__name__": M.PREDICTIONS.name, "model": m.name, M.CLASS_LABEL: other}, "counter",
                         (lambda other, bo: (lambda v: 10 * v) if other == cls else
                          (lambda v: 10 * (1 - v) * bo / (1 - base_c)))(other, bo))
                    for other, bo in classes]
            return feeds_for[cls]

        def uid_of(cls, side):
            return make_uid("md", "PredictionDistributionShift", m.name, f"{cls}-{side}")

        for cls, base, op, thr, side in bounds:
            expr = signals.class_share(m.name, cls, W)
            shared = {}
            for cls2, base2, _op2, _thr2, side2 in bounds:
                if (cls2, side2) == (cls, side):
                    continue
                if cls2 == cls:
                    shared[uid_of(cls2, side2)] = lambda v: v
                else:
                    shared[uid_of(cls2, side2)] = (lambda b2, bc: lambda v: (1 - v) * b2 / (1 - bc))(base2, base)
            br, near, _ = _levels(op, thr, cap=1.0)
            if op == "<":
                br, near = thr * 0.8, thr + (base - thr) * 0.2
            else:
                br, near = min(1.0, thr + (1 - thr) * 0.5), thr - (thr - base) * 0.2
            b.add(name="PredictionDistributionShift", layer="model", severity="warning", model=m.name,
                  namespace=m.namespace, expr=expr, op=op, threshold=round(thr, 9), for_=cs.for_,
                  labels=labels("warning", "PredictionDistributionShift", predicted_class=cls, direction=side),
                  summary=f"Share of class {cls} predicted by {m.name} left its baseline",
                  description=f"Model {m.name} predicted class {cls} for {{value}} of requests over "
                              f"{format_duration(cs.for_)}; baseline {fmt_number(base * 100)}% +/- "
                              f"{fmt_number(round(cs.tolerance * 100, 6))}%.",
                  runbook_url=b.runbook("PredictionDistributionShift", m),
                  panel=panel_link("model", "model.class_share", m.name), group=group, key=f"{cls}-{side}",
                  value_format="percent", no_data_state=NODATA_HEALTHY,
                  scenario=_rate_scenario(share_feeds(cls), br, near, base, {}, shared=shared))

    dr = th.drift
    for feat in m.features:
        thr = m.drift_threshold(feat)
        expr = signals.drift_score(m.name, dr.method, feat.name)
        feed = Feed({"__name__": M.DRIFT_SCORE.name, "model": m.name, "feature": feat.name, "method": dr.method,
                     "job": "drift"}, "gauge")
        br, near, healthy = _levels(">", thr)
        b.add(name="ModelDriftHigh", layer="model", severity="warning", model=m.name, namespace=m.namespace,
              expr=expr, op=">", threshold=thr, for_=dr.for_,
              labels=labels("warning", "ModelDriftHigh", feature=feat.name),
              summary=f"Feature {feat.name} of {m.name} drifted",
              description=f"{dr.method.upper()} drift of feature {feat.name} of model {m.name} is {{value}}, above "
                          f"{fmt_number(thr)} for {format_duration(dr.for_)}.",
              runbook_url=b.runbook("ModelDriftHigh", m), panel=panel_link("model", "model.drift", m.name),
              group=group, key=feat.name, no_data_state=NODATA_HEALTHY,
              scenario=_gauge_scenario([feed], br, near, healthy, {"model": m.name, "feature": feat.name}))

    if m.ground_truth:
        q = th.quality
        if m.task == "classification":
            checks = [("accuracy", M.ACCURACY, {}, "<", q.accuracy_min), ("recall", M.RECALL, {"target_class": M.MACRO},
                      "<", q.recall_min), ("precision", M.PRECISION, {"target_class": M.MACRO}, "<", q.precision_min),
                      ("f1", M.F1, {"target_class": M.MACRO}, "<", q.f1_min)]
        else:
            checks = [("rmse", M.RMSE, {}, ">", q.rmse_max), ("mae", M.MAE, {}, ">", q.mae_max)]
        for key, metric, extra, op, thr in checks:
            if thr is None:
                continue
            expr = signals.quality(metric, m.name, **extra)
            feed = Feed({"__name__": metric.name, "model": m.name, **extra, "job": "quality"}, "gauge")
            if op == "<":
                br, near, healthy = thr * 0.8, min(1.0, thr + 0.01), min(1.0, thr + 0.05)
            else:
                br, near, healthy = _levels(op, thr)
            word = "below" if op == "<" else "above"
            b.add(name="ModelQualityDegraded", layer="model", severity="warning", model=m.name,
                  namespace=m.namespace, expr=expr, op=op, threshold=thr, for_=q.for_,
                  labels=labels("warning", "ModelQualityDegraded", quality_metric=key),
                  summary=f"{key} of {m.name} {word} {fmt_number(thr)}",
                  description=f"{key} of model {m.name} against ground truth is {{value}}, {word} {fmt_number(thr)} "
                              f"for {format_duration(q.for_)}.",
                  runbook_url=b.runbook("ModelQualityDegraded", m), panel=panel_link("model", "model.quality", m.name),
                  group=group, key=key, no_data_state=NODATA_HEALTHY,
                  scenario=_gauge_scenario([feed], br, near, healthy, {"model": m.name}))

    for job_name in spec.jobs.enabled_for(m):
        job = getattr(spec.jobs, job_name)
        expr = signals.job_staleness(m.name, job_name)
        thr = 2 * job.period
        b.add(name="ModelMonitoringJobStale", layer="model", severity="warning", model=m.name, namespace=m.namespace,
              expr=expr, op=">", threshold=thr, for_=STALE_FOR,
              labels=labels("warning", "ModelMonitoringJobStale", job=job_name),
              summary=f"The {job_name} job of {m.name} has not succeeded for two periods",
              description=f"The {job_name} monitoring job of model {m.name} last succeeded {{value}} ago (or never), "
                          f"more than twice its period of {format_duration(job.period)}.",
              runbook_url=b.runbook("ModelMonitoringJobStale", m),
              panel=panel_link("model", "model.drift" if job_name == "drift" else "model.quality", m.name),
              group=group, key=job_name, value_format="duration", no_data_state=NODATA_FIRE,
              scenario=_stale_scenario(b, m.name, job_name, thr))
        b.stale_jobs.append((m.name, job_name))


def _stale_scenario(b: _Builder, model: str, job: str, thr: float) -> Scenario | None:
    """promtool cases for the first model of each (job, threshold): the rule differs between models
    only in the model label, and each case must feed every other job of the fleet (or their absent()
    clauses fire), so testing every model would cost O(models^2) series."""
    if (job, thr) in b.stale_tested:
        return None
    b.stale_tested.add((job, thr))
    return Scenario(feeds=[], breach=0, near=0, healthy=0, output_labels={"model": model, "job": job},
                    custom=_stale_cases(model, job, thr, b.stale_jobs, b.stale_series))


def _job_series(all_jobs: list[tuple[str, str]], count: int, step: int, cache: dict) -> dict[str, list[dict]]:
    """Every (model, job) succeeding every ``step`` minutes, ``count`` samples, by model; built once
    per count for the fleet (not once per case)."""
    key = (count, step, len(all_jobs))
    if key not in cache:
        out: dict[str, list[dict]] = defaultdict(list)
        for m2, j2 in all_jobs:
            out[m2].append({"series": series_text({"__name__": M.JOB_LAST_SUCCESS.name, "model": m2, "job": j2}),
                            "values": f"0+{step * 60}x{count - 1}"})
        cache[key] = dict(out)
    return cache[key]


def _stale_cases(model: str, job: str, thr: float, all_jobs: list[tuple[str, str]], cache: dict | None = None):
    """Cases on a 5m step (two periods are hours). Every other (model, job) whose rule the test
    file loads reports success throughout, or its absent() clause would fire too."""
    cache = {} if cache is None else cache
    text = series_text({"__name__": M.JOB_LAST_SUCCESS.name, "model": model, "job": job})
    step = 5

    def cases(uid, for_s):
        f = int(for_s // 60)
        p2 = int(thr // 60)
        at = p2 + f + 2 * step  # minutes: stale from p2, for f, plus margin
        n = at // step + 2

        def sampled(values):
            return [{"series": text, "values": compress(values)}]

        def background(count):  # by model: a promtool test file feeds only its own models' jobs
            by_model = _job_series(all_jobs, count, step, cache)
            return {**by_model, model: [s for s in by_model.get(model, []) if s["series"] != text]}

        short_ok = (p2 + max(step, f // 2)) // step  # index of the sample where the job succeeds again
        near_c = at * 60 - (thr - 300)
        absent_at = f + 2 * step
        return [
            Case("fires when the last success is older than two periods", sampled([0.0] * n),
                 [(p2 + f - step, False), (at, True)], {uid: at * 60.0}, background=background(n)),
            Case("fires when the job never reported (absent)", [],
                 [(f - step, False), (absent_at, True)], {uid: absent_at * 60.0},
                 background=background(absent_at // step + 2)),
            Case("quiet just below two periods", sampled([near_c] * n), [(at, True)], {uid: thr - 300},
                 background=background(n)),
            Case("quiet for a staleness shorter than for (the job succeeds again)",
                 sampled([0.0] * short_ok + [short_ok * step * 60.0] * (n - short_ok)), [(at, False)],
                 background=background(n)),
            Case("quiet when the job succeeds every run",
                 [{"series": text, "values": f"0+{step * 60}x{n - 1}"}], [(at, True)], {uid: 0.0},
                 background=background(n)),
        ]

    cases.step = step
    return cases


# --------------------------------------------------------------------------- entry point


def build_catalog(spec) -> tuple[list[AlertDefinition], list[tuple[str, str, str]]]:
    """All alert definitions of a fleet, and the (alert, model, reason) of every one skipped."""
    b = _Builder(spec)
    if not spec.alerting.enabled:
        return [], [("*", "*", "alerting.enabled is false")]
    _infrastructure(b)
    _platform(b)
    for m in spec.models:
        _serving(b, m)
        add_slo_alerts(b, m)
        _behaviour(b, m)
    dup = sorted(u for u, n in Counter(d.uid for d in b.defs).items() if n > 1)
    if dup:
        raise ValueError(f"two alert definitions share uid {dup[0]!r}")
    return scoped_definitions(spec, b.defs), b.skipped


def alert_definitions(spec) -> list[AlertDefinition]:
    return build_catalog(spec)[0]
