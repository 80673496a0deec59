"""modeldash: ML-model monitoring as code.

This folder is the root of the installed ``modeldash`` package; the code lives in the
top-level folders ``panels/``, ``dashboards/``, ``datasources/`` and ``scripts/``, which
pyproject.toml maps to ``modeldash.panels`` and so on.
"""

__version__ = "0.1.0"
