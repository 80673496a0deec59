"""What a sync wants Grafana to hold (desired state) and how modeldash recognises its own objects (ownership). Pure; the HTTP side is in scripts/sync_*.py."""
