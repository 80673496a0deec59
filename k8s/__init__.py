"""Kubernetes and Grafana provisioning manifests: ConfigMaps, PrometheusRule, ServiceMonitor, job CronJobs, deletions."""
