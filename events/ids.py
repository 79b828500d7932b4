"""Deterministic identifiers: a retried delivery must map to the same event."""

from __future__ import annotations

import hashlib
import hmac
import uuid

# Fixed namespace: changing it would re-key every interaction ever received.
KARTOTEKA_NS = uuid.UUID("6f6b6f2e-6b61-7274-6f74-656b612e7631")
_NS_BYTES = KARTOTEKA_NS.bytes


def uuid5_text(name: str) -> str:
    """``str(uuid.uuid5(KARTOTEKA_NS, name))``, computed straight from SHA-1.

    Cheaper than uuid.uuid5 on ingest's hot path (bench/README.md); the same string, which the
    tests compare.
    """
    return _uuid_text(hashlib.sha1(_NS_BYTES + name.encode()).hexdigest(), "5")


def _uuid_text(h: str, version: str) -> str:
    # The version replaces the 13th hex digit; the RFC 4122 variant sets the top bits of the 17th.
    return f"{h[:8]}-{h[8:12]}-{version}{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def interaction_id(channel: str, external_id: str, secret: bytes) -> str:
    """The event id of an interaction, stable across retries and restarts.

    A keyed HMAC (the deployment's ``secret``, ``sealing.id_secret``), not a hash of the plain
    external id: a message id or a call's number-and-time must not be guessable from the id,
    which every table, topic and access record carries. A UUID of version 8 (custom).
    """
    digest = hmac.digest(secret, f"interaction:{channel}:{external_id}".encode(), "sha256")
    return _uuid_text(digest.hex(), "8")


def customer_id_for(first_interaction_id: str) -> str:
    """A new customer's id, derived from the interaction that revealed them.

    Deriving it (rather than drawing a random one) makes a replay from offset
    zero produce the same customers.
    """
    return uuid5_text(f"customer:{first_interaction_id}")


def derived_event_id(origin: str, version: int) -> str:
    """Id of a published domain event: one per (aggregate, version)."""
    return uuid5_text(f"event:{origin}:{version}")


def split_target_id(command_id: str) -> str:
    """The new customer a split creates, stable when the command is replayed."""
    return uuid5_text(f"split:{command_id}")


def work_id(kind: str, employee_id: str, idempotency_key: str) -> str:
    """Id of a note, request, task or change an employee asked for with an ``Idempotency-Key``:
    a retried POST maps to the same id, and the work projection stores it once."""
    return uuid5_text(f"work:{kind}:{employee_id}:{idempotency_key}")
