"""The fleet spec, and the dashboards and alert definitions assembled from panels."""
