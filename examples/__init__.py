"""The example fleet (fleet.yaml, the default spec of every command) and a KServe predictor showing the instrumentation."""
