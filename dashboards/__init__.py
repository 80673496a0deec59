"""The Grafana dashboards, assembled from panel factories: one per model, plus fleet, platform and infrastructure views."""
