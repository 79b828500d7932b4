"""Alerts for the workflow tests, produced onto alerts.v1 exactly as the detect worker does."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from events import topics
from events.audit.records import alert_record
from events.catalog import AlertRaised
from kartoteka.settings import Settings
from tests.support.kafka_tools import produce


def raise_alert(settings: Settings, employee: str, kind: str = "off_hours", severity: str = "medium",
                at: datetime | None = None) -> str:
    """Produce one alert about ``employee``; its id."""
    at = at or datetime.now(UTC)
    alert = AlertRaised(id=str(uuid.uuid4()), employee_id=employee, kind=kind, severity=severity,  # type: ignore[arg-type]
                        score=0.7, window_start=at - timedelta(hours=1), window_end=at,
                        evidence={"accesses": 12}, raised_at=at)
    record = alert_record(alert, "test")
    produce(settings, settings.topic(topics.ALERTS), [(record.key, record.value, list(record.headers))])
    return alert.id
