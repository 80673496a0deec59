"""Serving backends: names, labels and units per reference/metrics.md."""
from __future__ import annotations

import promql_parser
import pytest

from modeldash.datasources.backends import BACKENDS, Target, get_backend

T = Target(namespace="fraud", isvc="fraud-detector", model="fraud-detector")


def parses(expr):
    promql_parser.parse(expr.replace("$__rate_interval", "5m"))
    return True


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_every_expression_parses(name):
    b = BACKENDS[name]
    assert parses(b.request_rate(T, "5m"))
    assert parses(b.latency_quantile(0.95, T, "5m"))
    if b.has_status_codes:
        assert parses(b.error_ratio(T, "5m"))
    if b.has_queue_depth:
        assert parses(b.queue_depth(T))


def test_knative_legacy_is_milliseconds_and_5xx_class():
    b = get_backend("knative-legacy")
    assert b.latency_unit == "ms"
    assert b.latency_threshold(0.5) == 500
    assert "revision_request_latencies_bucket" in b.latency_quantile(0.95, T, "5m")
    ratio = b.error_ratio(T, "5m")
    assert 'response_code_class="5xx"' in ratio and "revision_request_count" in ratio
    assert '!~"2.."' not in ratio
    assert 'configuration_name="fraud-detector-predictor"' in ratio


def test_knative_otel_is_seconds_with_numeric_status():
    b = get_backend("knative")
    assert b.latency_unit == "s" and b.latency_threshold(0.5) == 0.5
    assert "kn_serving_invocation_duration_seconds_bucket" in b.latency_quantile(0.99, T, "5m")
    assert 'http_response_status_code=~"5.."' in b.error_ratio(T, "5m")
    assert 'k8s_namespace_name="fraud"' in b.request_rate(T, "5m")
    assert b.queue_depth(T).startswith("sum by (kn_revision_name) (kn_serving_queue_depth{")


def test_kserve_model_server_has_no_status_codes():
    b = get_backend("kserve")
    assert b.error_ratio(T, "5m") is None and not b.has_status_codes
    assert 'model_name="fraud-detector"' in b.request_rate(T, "5m")
    assert "request_predict_seconds_count" in b.request_rate(T, "5m")
    assert b.queue_depth(T) is None


def test_istio_destination_reporter_in_milliseconds():
    b = get_backend("istio")
    assert b.latency_unit == "ms" and b.latency_threshold(1.0) == 1000
    expr = b.error_ratio(T, "5m")
    assert 'reporter="destination"' in expr and 'response_code=~"5.."' in expr
    assert "istio_request_duration_milliseconds_bucket" in b.latency_quantile(0.95, T, "5m")


def test_quantiles_come_from_histograms_never_averages():
    for b in BACKENDS.values():
        expr = b.latency_quantile(0.95, T, "5m")
        assert expr.startswith("histogram_quantile(0.95, sum by (le) (rate(")
        assert "_sum" not in expr


def test_unknown_backend():
    with pytest.raises(KeyError, match="choose one of"):
        get_backend("seldon")
