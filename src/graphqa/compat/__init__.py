"""Every use of an upstream private API, one module per upstream (``dvc``, ``dvclive``, ``lightning``).

Each is guarded by a canary test (``tests/compat/``) that names the upstream
symbol when an upgrade removes it; pyproject caps those packages at the
majors tested.
"""
