"""Grafana's own provisioning files, for a Grafana that reads ``provisioning/`` from disk.

The same datasource document goes into the datasource ConfigMap of the ``k8s/`` tree; the
dashboards provider is what the chart configures for the sidecar (``foldersFromFilesStructure``).
"""
from __future__ import annotations

from modeldash.spec.fleet import FleetSpec


def dashboard_provider(spec: FleetSpec) -> dict:
    """One file provider over ``dashboards_path``; its sub-directories become folders.

    No ``folder``/``folderUid``: Grafana refuses them together with ``foldersFromFilesStructure``.
    ``disableDeletion: false`` lets Grafana remove a dashboard whose file was removed.
    """
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": spec.name,
                "orgId": 1,
                "type": "file",
                "disableDeletion": False,
                "allowUiUpdates": False,
                "updateIntervalSeconds": 30,
                "options": {"path": spec.kubernetes.provisioning.dashboards_path, "foldersFromFilesStructure": True},
            }
        ],
    }


def datasource_provisioning(spec: FleetSpec) -> dict:
    """Grafana's datasource provisioning file for the spec's Prometheus.

    ``isDefault`` stays false: kube-prometheus-stack already provisions a default datasource,
    and two defaults in one org make Grafana reject the provisioning.
    """
    ds = spec.datasource
    return {
        "apiVersion": 1,
        "datasources": [
            {
                "name": ds.name,
                "type": "prometheus",
                "uid": ds.uid,
                "url": ds.url,
                "access": "proxy",
                "isDefault": False,
                "editable": False,
                "jsonData": {"httpMethod": "POST", "timeInterval": f"{int(spec.kubernetes.scrape_interval)}s"},
            }
        ],
    }
