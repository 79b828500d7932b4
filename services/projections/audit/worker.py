"""Audit projection worker: access.v1 -> the append-only, hash-chained access trail."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from eventsourcing.persistence import Tracking

from events import topics
from events.audit.trail import access_record, chain_alert
from events.catalog import AccessRecorded, AlertRaised
from services.projections.audit.store import AccessStore, TailFault
from services.projections.records import Decoded
from services.projections.spec import IDLE_FETCH_WAIT_MS, Context, WorkerSpec

log = logging.getLogger(__name__)
AlertSink = Callable[[Sequence[AlertRaised]], None]


class AuditProjection:
    """Each access event becomes one chained row of the trail, in log order.

    When the stored chain no longer ends at its signed head (rows deleted or changed behind
    the worker's back), the worker raises a ``chain_integrity`` alert and carries on from the
    head, so the hole stays visible to ``/v1/audit/verify``.
    """

    def __init__(self, store: AccessStore, alerts: AlertSink | None = None) -> None:
        self.store = store
        self.alerts = alerts

    def apply(self, items: list[Decoded], trackings: list[Tracking]) -> None:
        now = datetime.now(UTC)
        records = [
            access_record(d.envelope.id, d.payload, d.partition, d.offset, now)
            for d in items
            if isinstance(d.payload, AccessRecorded)
        ]
        fault = self.store.append(records, trackings)
        if fault is not None:
            self._raise(fault, now)

    def _raise(self, fault: TailFault, now: datetime) -> None:
        log.error("audit chain broken", extra={"head_seq": fault.head_seq, "reason": fault.reason})
        if self.alerts is None:
            return
        try:
            self.alerts([chain_alert(fault.head_seq, fault.reason, now, WORKER.name)])
        except Exception:  # noqa: BLE001 - the rows are committed; verify raises it again
            log.exception("chain alert not produced; /v1/audit/verify will report the fault")


def _build(ctx: Context) -> AuditProjection:
    from events.audit.trail import checkpoint_key
    from services.projections.audit.publish import AlertPublisher

    store = AccessStore(ctx.datastore, ctx.positions, checkpoint_key(ctx.settings.secret))
    return AuditProjection(store, AlertPublisher(ctx.settings).publish)


# The trail is the record of truth, not a read model: a rebuild never empties it.
WORKER = WorkerSpec(name="audit", consumes=(topics.ACCESS,), produces=(topics.ALERTS,), build=_build,
                    fetch_max_wait_ms=IDLE_FETCH_WAIT_MS)
