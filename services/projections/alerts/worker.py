"""Alerts projection worker: alerts.v1 -> the alerts read model and its workflow."""

from __future__ import annotations

import logging

from eventsourcing.persistence import Tracking

from events import topics
from events.alert_workflow import AlertStatusChanged
from events.catalog import AlertRaised
from services.projections.alerts.store import AlertStore, Event
from services.projections.records import Decoded
from services.projections.spec import IDLE_FETCH_WAIT_MS, WorkerSpec

log = logging.getLogger(__name__)


class AlertProjection:
    """Every alert event becomes (or escalates) one row of the alerts table; every status
    change moves one along its workflow."""

    def __init__(self, store: AlertStore) -> None:
        self.store = store

    def apply(self, items: list[Decoded], trackings: list[Tracking]) -> None:
        events: list[Event] = [
            d.payload for d in items if isinstance(d.payload, AlertRaised | AlertStatusChanged)
        ]
        self.store.apply(events, trackings)
        for alert in (e for e in events if isinstance(e, AlertRaised)):
            # Committed: one line each for whoever watches the logs (a SIEM).
            log.warning("alert raised", extra={
                "alert_id": str(alert.id), "employee_id": alert.employee_id, "kind": alert.kind,
                "severity": alert.severity, "score": alert.score})


WORKER = WorkerSpec(
    name="alerts", consumes=(topics.ALERTS,), produces=(),
    read_model=("alerts", "alert_status_log", "alert_suppressions"),
    build=lambda ctx: AlertProjection(AlertStore(ctx.datastore, ctx.positions)),
    fetch_max_wait_ms=IDLE_FETCH_WAIT_MS, background=True,
)
