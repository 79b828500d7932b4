"""Producing alerts to ``alerts.v1`` from a worker (the detectors and the audit chain)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from kafka import KafkaProducer

from events import topics
from events.audit.trail import alert_event_id
from events.catalog import AlertRaised
from events.envelope import encode, wrap
from kartoteka import kafka
from kartoteka.settings import Settings

SOURCE = "kartoteka/projections"


def alert_record(alert: AlertRaised, source: str = SOURCE) -> tuple[bytes, bytes]:
    """Key (the employee, so one employee's alerts stay in order) and value of an alert."""
    envelope = wrap(
        alert, id=alert_event_id(alert), source=source, time=alert.raised_at,
        subject=alert.employee_id,
    )
    return alert.employee_id.encode(), encode(envelope)


class AlertPublisher:
    """Produces alerts and returns only once Kafka acknowledged every one (acks=all).

    The producer is created on first use, never at construction.
    """

    def __init__(self, settings: Settings, timeout_s: float = 30) -> None:
        self.settings = settings
        self.topic = settings.topic(topics.ALERTS)
        self.timeout_s = timeout_s
        self._producer: KafkaProducer | None = None

    def publish(self, alerts: Sequence[AlertRaised]) -> None:
        if not alerts:
            return
        if self._producer is None:
            self._producer = kafka.producer(self.settings, linger_ms=2)
        futures = []
        for alert in alerts:
            key, value = alert_record(alert)
            headers = [("event-type", b"alert")]
            futures.append(self._producer.send(self.topic, key=key, value=value, headers=headers))
        self._producer.flush(self.timeout_s)
        for future in futures:
            future.get(self.timeout_s)  # raises the KafkaError of a record that was refused

    def close(self) -> None:
        if self._producer is not None:
            with contextlib.suppress(Exception):  # closing on the way out
                self._producer.close(5)
            self._producer = None
