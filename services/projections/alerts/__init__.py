"""Alerts read model: alerts.v1 -> the alerts table security officers query."""
