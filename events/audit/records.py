"""The audit side's outgoing records: alerts (alerts.v1) and signed chain checkpoints
(audit.checkpoints.v1), each encoded in one place whoever sends it."""

from __future__ import annotations

import uuid
from datetime import datetime

from events import topics
from events.audit.chain import Checkpoint
from events.catalog import AlertRaised, AuditCheckpointSigned
from events.envelope import encode, wrap
from events.ids import KARTOTEKA_NS
from events.records import Outgoing


def alert_event_id(alert: AlertRaised) -> str:
    """One event per alert and severity: a re-send is a duplicate, an escalation is news."""
    return str(uuid.uuid5(KARTOTEKA_NS, f"alert-event:{alert.id}:{alert.severity}"))


def alert_record(alert: AlertRaised, source: str) -> Outgoing:
    """Keyed by the employee, so one employee's alerts stay in order."""
    envelope = wrap(alert, id=alert_event_id(alert), source=source, time=alert.raised_at,
                    subject=alert.employee_id)
    return Outgoing(topics.ALERTS, alert.employee_id.encode(), encode(envelope), (("event-type", b"alert"),))


def checkpoint_record(chain: str, checkpoint: Checkpoint, signed_at: datetime, source: str) -> Outgoing:
    """Keyed by the chain; an archiver outside the database keeps these to anchor verification."""
    signed = AuditCheckpointSigned(chain=chain, seq=checkpoint.seq, hash=checkpoint.hash,
                                   signature=checkpoint.signature, signed_at=signed_at)
    event_id = str(uuid.uuid5(KARTOTEKA_NS, f"checkpoint:{chain}:{checkpoint.seq}"))
    envelope = wrap(signed, id=event_id, source=source, time=signed.signed_at, subject=chain)
    return Outgoing(topics.AUDIT_CHECKPOINTS, chain.encode(), encode(envelope),
                    (("event-type", b"checkpoint"),))
