"""What one row of the access trail hashes over, and the key its checkpoints are signed with.

Pure: the audit worker (which writes the chain) and the verifier (which recomputes it from
the stored rows) must agree on these byte for byte, so both take them from here.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from events.catalog import AccessRecorded, AlertRaised
from events.ids import KARTOTEKA_NS

CHAIN = "access"
SYSTEM = "system"
"""The employee id of alerts about the trail itself rather than about a person."""
RECORD_FIELDS = (
    "id",
    "employee_id",
    "role",
    "action",
    "customer_ids",
    "at",
    "request_id",
    "client",
    "route",
    "query",
    "kafka_partition",
    "kafka_offset",
    "recorded_at",
)
"""Every stored column of an access row except its position and hashes."""

_KEY_LABEL = b"kartoteka/audit-checkpoint/v1"


def checkpoint_key(secret: str) -> bytes:
    """The HMAC key for checkpoints, derived from (never equal to) the token secret."""
    return hmac.new(secret.encode(), _KEY_LABEL, hashlib.sha256).digest()


def _text(value: str | None) -> str | None:
    # PostgreSQL text cannot hold NUL; a search for "\x00" must still leave a record.
    return value.replace("\x00", "\ufffd") if value is not None else None


def _aware(moment: datetime) -> datetime:
    # A naive time would hash one way here and be stored another way; read it as UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def access_record(
    event_id: str,
    access: AccessRecorded,
    partition: int | None,
    offset: int | None,
    recorded_at: datetime,
) -> dict[str, Any]:
    """The record of one access event exactly as it is stored and hashed."""
    return {
        "id": str(uuid.UUID(event_id)),  # the form PostgreSQL hands back
        "employee_id": _text(access.employee_id),
        "role": _text(access.role),
        "action": access.action,
        "customer_ids": [_text(c) for c in access.customer_ids],
        "at": _aware(access.at),
        "request_id": _text(access.request_id),
        "client": _text(access.client),
        "route": _text(access.route),
        "query": _text(access.query),
        "kafka_partition": partition,
        "kafka_offset": offset,
        "recorded_at": recorded_at,
    }


def stored_record(row: Mapping[str, Any]) -> dict[str, Any]:
    """The hashed record of a row read back from ``access_log``."""
    return {name: row[name] for name in RECORD_FIELDS}


def chain_alert(first_bad: int, reason: str, at: datetime, detector: str) -> AlertRaised:
    """The alert for a broken chain: critical, one per (position, reason) however often seen."""
    return AlertRaised(
        id=str(uuid.uuid5(KARTOTEKA_NS, f"alert:chain:{CHAIN}:{first_bad}:{reason}")),
        employee_id=SYSTEM,
        kind="chain_integrity",
        severity="critical",
        score=1.0,
        window_start=at,
        window_end=at,
        evidence={"chain": CHAIN, "first_bad": first_bad, "reason": reason},
        raised_at=at,
        detector=detector,
    )
