"""Alert definitions and their outputs: Grafana-managed rules, Prometheus rules, recording rules, promtool tests, routing."""
