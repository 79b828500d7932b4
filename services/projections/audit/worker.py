"""Audit projection worker: access.v1 -> the append-only access trail."""

from __future__ import annotations

from eventsourcing.persistence import Tracking

from events import topics
from events.catalog import AccessRecorded
from services.projections.audit.store import AccessStore
from services.projections.runner import Decoded


def access_row(event_id: str, access: AccessRecorded) -> tuple[object, ...]:
    return (
        event_id,
        access.employee_id,
        access.role,
        access.action,
        list(access.customer_ids),
        access.at,
        access.request_id,
        access.client,
        access.route,
        access.query,
    )


class AuditProjection:
    """Each access event becomes one row of the trail, in log order."""

    name = "audit"
    topic = topics.ACCESS

    def __init__(self, store: AccessStore) -> None:
        self.store = store

    def apply(self, items: list[Decoded], trackings: list[Tracking]) -> None:
        rows = [
            access_row(d.envelope.id, d.payload)
            for d in items
            if isinstance(d.payload, AccessRecorded)
        ]
        self.store.append(rows, trackings)
