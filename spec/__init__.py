"""The fleet spec: parsing, defaults and field-path validation of the one YAML file everything is built from."""
