"""Detectors worker: access.v1 (and the employee context) -> deduplicated alerts on alerts.v1."""
