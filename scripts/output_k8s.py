"""Output family ``k8s``: the ``k8s/`` tree for kube-prometheus-stack and the ``provisioning/`` tree.

``k8s/`` holds one ConfigMap per dashboard (sidecar label + folder annotation), the datasource
and alerting ConfigMaps, PrometheusRules, and a PodMonitor/ServiceMonitor per model (the
Pushgateway's ServiceMonitor comes with the jobs, in ``k8s/jobs/``). ``provisioning/`` is the same content laid out as a plain Grafana's
``/etc/grafana/provisioning`` expects. ``k8s/kustomization.yaml`` is added by ``render.build_files``
after every family ran (``kustomization_file``), so it lists other families' manifests too.
The family runs in four steps (dashboards' copies, what comes from the spec alone, the alerting
and rule manifests, then the deletion plan and summary over all) so that a render in lanes
builds the first two beside the third.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Iterator


from modeldash.alerts import build as alerts
from modeldash.dashboards.build import iter_dashboards
from modeldash.k8s import manifests as km
from modeldash.k8s.grafana_provisioning import dashboard_provider, datasource_provisioning
from modeldash.k8s.deletions import plan_deletions
from modeldash.spec.fleet import FleetSpec
from modeldash.scripts.output_dashboards import dashboard_files
from modeldash.scripts.serialise import dumps_json_bytes, dumps_yaml, dumps_yaml_json

K8S = "k8s"
PROVISIONING = "provisioning"
KUSTOMIZATION = f"{K8S}/kustomization.yaml"
DELETIONS = f"{K8S}/deletions.txt"
MANIFEST_KEY = "k8s"


@dataclass
class K8sRender:
    """What the k8s family builds besides files, filled part by part: the dashboards' part and
    the alerting part may run in two processes (``render.render_to``), merged by ``absorb``
    before ``k8s_closing`` plans deletions over every object and writes the summary."""

    files: dict[str, str] = field(default_factory=dict)
    state: dict = field(default_factory=dict)
    summary: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # size-limit errors, one line each
    largest: tuple[str, int] | None = None  # (ConfigMap name, client-side apply bytes)
    objects: dict[str, dict] = field(default_factory=dict)  # the manifests by path, for lint
    manifests: int = 0
    paths: set[str] = field(default_factory=set)  # every manifest's path
    object_ids: set[str] = field(default_factory=set)  # kind/namespace/name, for the deletion plan
    rule_uids: set[str] = field(default_factory=set)  # every Grafana alert rule's uid
    rule_deletions: list[str] = field(default_factory=list)  # uids in this render's deleteRules

    def absorb(self, earlier: "K8sRender") -> None:
        """Merge a part built elsewhere that comes before this one in the tree (the dashboards'
        ConfigMaps): the same totals, problems and largest ConfigMap as one pass would give."""
        clash = self.paths & earlier.paths
        if clash:
            raise RuntimeError(f"two k8s objects both map to {min(clash)}")
        self.paths |= earlier.paths
        self.object_ids |= earlier.object_ids
        self.rule_uids |= earlier.rule_uids
        self.manifests += earlier.manifests
        self.problems[:0] = earlier.problems
        self.objects = {**earlier.objects, **self.objects}
        if earlier.largest and (self.largest is None or earlier.largest[1] >= self.largest[1]):
            self.largest = earlier.largest  # ties go to the earlier ConfigMap, as in one pass


def _object_id(manifest: dict) -> str:
    meta = manifest["metadata"]
    return f"{manifest['kind']}/{meta['namespace']}/{meta['name']}"


def render_k8s(
    spec: FleetSpec,
    dashboards: list[tuple[str, str, dict]],
    alerting: dict | None,
    prometheus_rules: list[dict],
    previous: dict | None,
) -> K8sRender:
    """Both trees in memory (``k8s_tree`` collected): ``dashboards`` as ``(uid, folder title,
    json)``, ``alerting`` as Grafana's file-provisioning document (None: dashboards only), and
    the PrometheusRule manifests. ``previous`` is the last render's ``k8s`` manifest entry."""
    out = K8sRender()
    texts = ((uid, folder, dumps_json_bytes(board), board) for uid, folder, board in dashboards)
    for rel, text, obj in k8s_tree(spec, texts, alerting, prometheus_rules, previous, out):
        out.files[rel] = text.decode("utf-8") if isinstance(text, bytes) else text
        if obj is not None:
            out.objects[rel] = obj
    return out


def k8s_tree(
    spec: FleetSpec,
    dashboards: Iterable[tuple[str, str, bytes, dict]],
    alerting: dict | None,
    prometheus_rules: list[dict],
    previous: dict | None,
    out: K8sRender,
) -> Iterator[tuple[str, str | bytes, dict | None]]:
    """Every file of both trees as ``(relative path, text, manifest or None)``, each serialised
    and handed on as it is built (a 1,000-model fleet's ConfigMaps are ~100 MB of text); what
    is not a file (state, summary, size problems, largest ConfigMap) is filled into ``out``.

    ``dashboards``: ``(uid, folder title, JSON text as in dashboards/, the dashboard)``;
    ``provisioning/`` gets the same bytes, the ConfigMap the same dashboard as compact JSON.
    """
    yield from k8s_dashboard_tree(spec, dashboards, out)
    yield from k8s_spec_tree(spec, out)
    yield from k8s_alerting_tree(spec, alerting, prometheus_rules, previous, out)
    yield from k8s_closing_tree(spec, previous, out)


def _manifest(spec: FleetSpec, out: K8sRender, rel: str, m: dict) -> tuple[str, str, dict] | None:
    """Measure and serialise one manifest (None when the k8s tree is off)."""
    if not spec.kubernetes.enabled:
        return None
    if rel in out.paths:
        raise RuntimeError(f"two k8s objects both map to {rel}")
    out.paths.add(rel)
    out.object_ids.add(_object_id(m))
    out.manifests += 1
    # every object is measured (ConfigMaps, PrometheusRules, monitors): rule groups are
    # sharded (alerts/sharding.py) so that generated groups never reach a limit
    sizes = km.configmap_sizes(m)
    applied = sizes[1]
    if m["kind"] == "ConfigMap" and (out.largest is None or applied > out.largest[1]):
        out.largest = (m["metadata"]["name"], applied)
    shrink = "make the dashboard smaller" if "/dashboards/" in rel else "report it: generated groups are split to fit"
    problem = km.size_problem(spec, m, rel, shrink, sizes)
    if problem:
        out.problems.append(problem)
    # a PrometheusRule holds a whole rule group: JSON-compatible YAML (orjson), as rules.yaml
    return rel, (dumps_yaml_json(m) if m["kind"] == "PrometheusRule" else dumps_yaml(m)), m


def k8s_dashboard_tree(spec: FleetSpec, dashboards: Iterable[tuple[str, str, bytes, dict]],
                       out: K8sRender) -> Iterator[tuple[str, str | bytes, dict | None]]:
    """Each dashboard's provisioning copy (the same bytes object: ``OutputTree`` hard-links it
    to the dashboard's file when that came just before) and its sidecar ConfigMap, from
    ``(uid, folder title, text, the dashboard the text was written from)``."""
    enabled = spec.kubernetes.enabled
    for uid, folder_title, text, board in dashboards:
        rel = f"{PROVISIONING}/dashboards/modeldash/{km.folder_directory(folder_title)}/{uid}.json"
        yield rel, text, None
        if enabled and (item := _manifest(spec, out, f"{K8S}/dashboards/{uid}.yaml",
                                          km.dashboard_configmap(spec, uid, folder_title, board))):
            yield item


def k8s_spec_tree(spec: FleetSpec, out: K8sRender) -> Iterator[tuple[str, str | bytes, dict | None]]:
    """What comes from the spec alone: the datasource and provider files and each model's monitor."""
    k = spec.kubernetes
    ds_text = dumps_yaml(datasource_provisioning(spec))
    yield f"{PROVISIONING}/datasources/modeldash.yaml", ds_text, None
    if k.datasource and (item := _manifest(spec, out, f"{K8S}/datasources/{spec.datasource.uid}.yaml",
                                           km.datasource_configmap(spec, ds_text))):
        yield item
    yield f"{PROVISIONING}/dashboards/modeldash.yaml", dumps_yaml(dashboard_provider(spec)), None
    for model in spec.models:
        if item := _manifest(spec, out, f"{K8S}/monitors/models/{model.name}.yaml", km.model_monitor(spec, model)):
            yield item


def k8s_alerting_tree(spec: FleetSpec, alerting: dict | None, prometheus_rules: list[dict], previous: dict | None,
                      out: K8sRender) -> Iterator[tuple[str, str | bytes, dict | None]]:
    """The PrometheusRules and the alerting files with this render's ``deleteRules`` (rule
    deletions need only the rule uids, not the objects)."""
    k = spec.kubernetes
    alerting = alerting if alerting is not None else {"apiVersion": 1, "groups": []}  # None: dashboards only
    for pr in prometheus_rules:
        m = km.prometheus_rule(spec, pr)
        if item := _manifest(spec, out, f"{K8S}/prometheus-rules/{m['metadata']['name']}.yaml", m):
            yield item

    out.rule_uids = set(km.rule_uids(alerting))
    out.rule_deletions = plan_deletions(previous or {}, out.rule_uids, set(), k.keep_deletions_for).rule_uids
    # Each rule group is serialised once and used twice: as a ConfigMap's data and as its own
    # file in provisioning/alerting/ (Grafana reads every file there), beside modeldash.yaml
    # with contact points, policies and deleteRules.
    for f in km.alert_files(spec, alerting, out.rule_deletions):
        text = dumps_yaml_json(f.content) if f.role == "group" else dumps_yaml(f.content)
        if f.role == "group":
            yield f"{PROVISIONING}/alerting/{f.stem}.yaml", text, None
        if item := _manifest(spec, out, f"{K8S}/alerting/{f.stem}.yaml", km.alert_configmap(spec, f.stem, text)):
            yield item
    yield (f"{PROVISIONING}/alerting/modeldash.yaml",
           dumps_yaml(km.alerting_with_deletions(alerting, out.rule_deletions)), None)


def k8s_closing_tree(spec: FleetSpec, previous: dict | None, out: K8sRender) -> Iterator[tuple[str, str, None]]:
    """Once every part ran: the deletion plan over every object generated, the state for the
    next render, the summary and ``k8s/deletions.txt``."""
    k = spec.kubernetes
    plan = plan_deletions(previous or {}, out.rule_uids, out.object_ids, k.keep_deletions_for)
    out.state = plan.state
    limit = "no client-side limit: server-side apply" if k.server_side_apply else f"limit {km.CLIENT_SIDE_APPLY_LIMIT:,}"
    if k.enabled:
        line = f"k8s: {out.manifests} manifests in {K8S}/ (kubectl apply -k {K8S}/)"
        if out.largest:
            line += f"; largest ConfigMap {out.largest[0]}: {out.largest[1]:,} bytes ({limit})"
        out.summary.insert(0, line)
    else:
        out.summary.append("k8s: no k8s/ tree (kubernetes.enabled: false)")
    if plan.rule_uids:
        out.summary.append(
            f"k8s: deleteRules for {len(plan.rule_uids)} vanished alert rule(s): {', '.join(plan.rule_uids)}"
        )
    if plan.objects:
        out.summary.append(
            f"k8s: remove {len(plan.objects)} object(s) no longer generated (list in {DELETIONS}): "
            + ", ".join(plan.objects)
        )
        yield DELETIONS, deletions_text(plan.objects), None


def deletions_text(objects: list[str]) -> str:
    """A runnable list: one ``kubectl delete`` per object an earlier render made and this one does not."""
    lines = [
        "# Objects an earlier `modeldash render` generated and this one no longer does.",
        "# `kubectl apply -k` does not remove them (Argo CD with prune does). Run these lines,",
        "# or delete them by hand. Their alert rules are removed by deleteRules already.",
    ]
    for obj in objects:
        kind, namespace, name = obj.split("/", 2)
        lines.append(f"kubectl delete --ignore-not-found -n {namespace} {kind.lower()}/{name}")
    return "\n".join(lines) + "\n"


def kustomization_file(files: dict[str, str]) -> str:
    """``k8s/kustomization.yaml`` listing every manifest (``*.yaml``) under ``k8s/``, from any family."""
    resources = sorted(
        rel[len(K8S) + 1:]
        for rel in files
        if rel.startswith(f"{K8S}/") and rel.endswith((".yaml", ".yml")) and rel != KUSTOMIZATION
    )
    return dumps_yaml({"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": resources})


def _k8s_render(ctx) -> K8sRender:
    """The family's state, shared by its four steps (``ctx.parts``; a render in lanes merges
    the other lanes' parts into it before the closing step)."""
    return ctx.parts.setdefault(MANIFEST_KEY, K8sRender())


def _handed_on(ctx, items) -> Iterator[tuple[str, str | bytes]]:
    for rel, text, obj in items:
        if obj is not None:
            ctx.parsed[rel] = obj  # lint reads the manifest, not the text again
        yield rel, text


def k8s_dashboard_files(ctx) -> Iterator[tuple[str, str | bytes]]:
    """The family's first step: every dashboard's provisioning copy and ConfigMap (without
    the dashboards family: with it, ``dashboard_and_copy_files`` does both)."""
    texts = ((b.uid, b.folder_title, dumps_json_bytes(b.json), b.json) for b in iter_dashboards(ctx.spec))
    yield from _handed_on(ctx, k8s_dashboard_tree(ctx.spec, texts, _k8s_render(ctx)))


def dashboard_and_copy_files(ctx) -> Iterator[tuple[str, str | bytes]]:
    """The dashboards family and this family's first step together: each dashboard's file,
    provisioning copy and ConfigMap one after the other, so that no dashboard's text waits
    for the copies (1,000 dashboards are ~50 MB of text)."""
    out = _k8s_render(ctx)

    def copies(uid: str, folder_title: str, text: bytes, board: dict):
        return _handed_on(ctx, k8s_dashboard_tree(ctx.spec, ((uid, folder_title, text, board),), out))

    yield from dashboard_files(ctx, copies)


def k8s_spec_files(ctx) -> Iterator[tuple[str, str | bytes]]:
    """The second step: the datasource and provider files and the models' monitors."""
    yield from _handed_on(ctx, k8s_spec_tree(ctx.spec, _k8s_render(ctx)))


def k8s_alerting_files(ctx) -> Iterator[tuple[str, str | bytes]]:
    """The third step: PrometheusRules and the alerting files."""
    rules = alerts.prometheus_rule_manifests(ctx.spec, rules=ctx.prometheus_rules)
    yield from _handed_on(ctx, k8s_alerting_tree(ctx.spec, ctx.grafana_alerting, rules,
                                                 ctx.previous_manifest.get(MANIFEST_KEY), _k8s_render(ctx)))


def k8s_closing_files(ctx) -> Iterator[tuple[str, str]]:
    """The last step: size problems (exit 2 on a limit), deletion plan, state, summary."""
    from modeldash.scripts.errors import BadInput

    result = _k8s_render(ctx)
    if result.problems and (ctx.only is None or "k8s" in ctx.only):
        more = f" (and {len(result.problems) - 1} more)" if len(result.problems) > 1 else ""
        raise BadInput(result.problems[0] + more)
    yield from _handed_on(ctx, k8s_closing_tree(ctx.spec, ctx.previous_manifest.get(MANIFEST_KEY), result))
    ctx.manifest[MANIFEST_KEY] = result.state
    ctx.summary.extend(result.summary)
