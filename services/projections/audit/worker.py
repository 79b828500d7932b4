"""Audit projection worker: access.v1 -> the append-only, hash-chained access trail."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from eventsourcing.persistence import Tracking

from events import topics
from events.audit.trail import access_record, checkpoint_key
from events.catalog import AccessRecorded
from services.projections.audit.store import AccessStore, CheckpointPolicy
from services.projections.records import Decoded
from services.projections.spec import IDLE_FETCH_WAIT_MS, Context, WorkerSpec

log = logging.getLogger(__name__)


class AuditProjection:
    """Each access event becomes one chained row of the trail, in log order.

    When the stored chain no longer ends at its signed head (rows deleted or changed behind
    the worker's back), the store records a ``chain_integrity`` alert in the outbox and the
    worker carries on from the head, so the hole stays visible to ``/v1/audit/verify``.
    """

    def __init__(self, store: AccessStore) -> None:
        self.store = store

    def apply(self, items: list[Decoded], trackings: list[Tracking]) -> None:
        now = datetime.now(UTC)
        records = [
            access_record(d.envelope.id, d.payload, d.partition, d.offset, now)
            for d in items
            if isinstance(d.payload, AccessRecorded)
        ]
        fault = self.store.append(records, trackings)
        if fault is not None:
            log.error("audit chain broken", extra={"head_seq": fault.head_seq, "reason": fault.reason})


def _build(ctx: Context) -> AuditProjection:
    policy = CheckpointPolicy(rows=ctx.settings.audit_checkpoint_rows)
    return AuditProjection(AccessStore(ctx.datastore, ctx.positions, checkpoint_key(ctx.settings.secret),
                                       policy))


# The trail is the record of truth, not a read model: a rebuild never empties it.
WORKER = WorkerSpec(name="audit", consumes=(topics.ACCESS,), produces=(topics.ALERTS, topics.AUDIT_CHECKPOINTS),
                    build=_build, fetch_max_wait_ms=IDLE_FETCH_WAIT_MS)
