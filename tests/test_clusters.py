"""Multi-cluster scoping: the spec setting, the PromQL rewrite, and its reach over every output."""
from __future__ import annotations

import promql_parser as pp
import pytest
import yaml
from click.testing import CliRunner

from modeldash.alerts.build import alert_definitions, prometheus_rules, recording_rules
from modeldash.dashboards.build import build_dashboards
from modeldash.datasources.clusters import CONSTANT_SERIES, scoped
from modeldash.scripts.cli import main
from modeldash.scripts.live_lint import iter_panels
from modeldash.spec.fleet import SpecError, bundled_example, load_spec, load_spec_data


def multi(label: str = "cluster"):
    data = yaml.safe_load(bundled_example().read_text())
    data["labels"].pop("cluster")
    data["prometheus"] = {"multi_cluster": True, "cluster_label": label}
    return load_spec_data(data, "fleet.yaml")


@pytest.mark.parametrize("expr,want", [
    ("sum(rate(x[5m]))", "sum by (c) (rate(x[5m]))"),
    ('histogram_quantile(0.95, sum by (le) (rate(x_bucket{a="b"}[$__rate_interval])))',
     'histogram_quantile(0.95, sum by (le, c) (rate(x_bucket{a="b"}[$__rate_interval])))'),
    ("a / on () group_left () b", "(a) / on (c) group_left () (b)"),
    ("a / ignoring (k) b", "a / ignoring (k) b"),  # ignoring keeps the cluster label already
    ("topk(10, max by (model) (a))", "topk(10, max by (model, c) (a))"),  # topk keeps every label
    ('a / on (model) group_left () model:threshold{signal="x"}',  # constants have no cluster
     'a / on (model) group_left () model:threshold{signal="x"}'),
    ("sum without (pod) (a)", "sum without (pod) (a)"),
    ("quantile(0.9, a)", "quantile by (c) (0.9, a)"),
    ("count(a) or vector(0)", "(count by (c) (a)) or (0 * group by (c) (up))"),  # a 0 per cluster
])
def test_scoped_aggregates_and_matches_per_cluster(expr, want):
    assert scoped(expr, "c") == want


def test_scoped_filters_selectors_but_not_constants():
    out = scoped('x{a="1"} offset 2m / on (model) group_left () model:info', "c", "$cluster")
    assert out == 'x{a="1",c=~"$cluster"} offset 2m / on (model) group_left () model:info'


def _aggregations(expr: str):
    found = []
    pp.walk(pp.parse(expr.replace("$__rate_interval", "1m")),
            lambda n: found.append(n) if isinstance(n, pp.AggregateExpr) else None)
    return found


def _selectors(expr: str):
    found = []
    pp.walk(pp.parse(expr.replace("$__rate_interval", "1m")),
            lambda n: found.append(n) if isinstance(n, pp.VectorSelector) else None)
    return found


def _per_cluster(expr: str, label: str) -> bool:
    return all(str(a.op) in ("topk", "bottomk") or (a.modifier is not None and label in a.modifier.labels
                                                  or a.modifier is not None and str(a.modifier.type).endswith("Without"))
               for a in _aggregations(expr))


def test_every_output_carries_the_cluster_label():
    spec = multi("kube_cluster")
    for board in (d.json for d in build_dashboards(spec)):
        assert [v["name"] for v in board["templating"]["list"]][:2] == ["datasource", "cluster"]
        exprs = [t["expr"] for p in iter_panels(board["panels"]) for t in p.get("targets", [])]
        exprs += [a["expr"] for a in board["annotations"]["list"]]
        for e in exprs:
            assert _per_cluster(e, "kube_cluster"), e
            for s in _selectors(e):
                assert s.name in CONSTANT_SERIES or any(m.name == "kube_cluster" for m in s.matchers.matchers), e
    for r in recording_rules(spec):
        assert _per_cluster(r.expr, "kube_cluster"), r.expr
    defs = alert_definitions(spec)
    assert defs and all(_per_cluster(d.expr, "kube_cluster") for d in defs)
    assert all("{kube_cluster}" in d.summary for d in defs)
    rules = prometheus_rules(spec)
    alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
    assert all("$labels.kube_cluster" in r["annotations"]["summary"] for r in alerts)
    slo = [r for g in rules["groups"] if g["name"].startswith("modeldash-slo-") for r in g["rules"]]
    assert slo and any(r.get("alert") == "ModelErrorBudgetBurn" for r in alerts)  # objectives are scoped too
    for r in slo:
        assert _per_cluster(r["expr"], "kube_cluster"), r["expr"]
    assert any("by (kube_cluster)" in r["expr"] or "kube_cluster)" in r["expr"] for r in slo)


def test_single_cluster_output_is_unchanged_by_the_setting():
    plain = load_spec(bundled_example())
    assert all("cluster" not in d.expr for d in alert_definitions(plain))
    boards = [d.json for d in build_dashboards(plain)]
    assert all(v["name"] != "cluster" for b in boards for v in b["templating"]["list"])


def test_spec_errors_name_the_field(tmp_path):
    data = yaml.safe_load(bundled_example().read_text())
    data["prometheus"] = {"multi_cluster": True}
    with pytest.raises(SpecError, match=r"labels\.cluster"):
        load_spec_data(data, "fleet.yaml")
    data["labels"].pop("cluster")
    data["prometheus"]["cluster_label"] = "model"
    with pytest.raises(SpecError, match=r"prometheus\.cluster_label"):
        load_spec_data(data, "fleet.yaml")
    path = tmp_path / "fleet.yaml"
    data["prometheus"]["cluster_label"] = "bad-label"
    path.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(main, ["render", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and "prometheus.cluster_label" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()
