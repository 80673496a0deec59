"""Preview pages of dashboards: Grafana's time-range semantics, query results as frames, HTML.

Everything here is pure (no HTTP, no browser): ``modeldash.scripts.preview_*`` runs the
queries and drives Chromium.
"""
