"""Where the data comes from: the Prometheus datasource, serving backends, model metric names."""
