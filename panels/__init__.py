"""Panel factories, one module per monitoring layer: each function returns a grafanalib panel."""
