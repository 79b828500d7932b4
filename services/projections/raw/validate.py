"""What becomes of one raw record: forwarded as our interaction event, or dead-lettered. No I/O.

The same contract ingest applies (``events.interaction``, ``events.ids``): a record written
straight to Kafka gets the id and key the HTTP path would have given it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError

from events import ids
from events.catalog import INTERACTION_RECEIVED
from events.envelope import serialise
from events.interaction import Interaction

SOURCE = "kartoteka/raw-validator"
HEADERS = [("event-type", INTERACTION_RECEIVED.encode())]


@dataclass(frozen=True, slots=True)
class Forward:
    """The contract's event for a valid record, still plain (the worker seals it), and the key of
    its primary identifier (the worker keys it by that identifier's token)."""

    id: str
    subject: str
    value: bytes


@dataclass(frozen=True, slots=True)
class Invalid:
    """A record that will never be an interaction, and why."""

    reason: str
    value: bytes

    def __post_init__(self) -> None:
        # The reason travels as a header through the outbox's jsonb, which cannot hold U+0000.
        object.__setattr__(self, "reason", self.reason.replace("\x00", "\\0"))


def verdict(raw: bytes | None, received_at: datetime, secret: bytes) -> Forward | Invalid:
    """Any bytes at all get a verdict: a poison record must never stop the validator."""
    if not raw:
        return Invalid("empty record", b"")
    try:
        interaction = Interaction.model_validate_json(raw)
    except ValidationError as exc:
        return Invalid(_reason(raw, exc), raw)
    try:
        id_ = ids.interaction_id(interaction.channel.value, interaction.external_id, secret)
        subject = interaction.primary_identifier().key
        value = serialise(interaction, id=id_, source=SOURCE, time=received_at, subject=subject)
        return Forward(id_, subject, value)
    except Exception as exc:  # noqa: BLE001 - e.g. a lone surrogate no id can be hashed from
        return Invalid(f"unusable record: {type(exc).__name__}: {exc}"[:2000], raw)


def _reason(raw: bytes, error: ValidationError) -> str:
    try:
        json.loads(raw)
    except (ValueError, RecursionError) as exc:
        return f"not JSON: {exc}"[:1000]
    parts = [f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['msg']}" for e in error.errors()[:10]]
    return ("not a canonical interaction: " + "; ".join(parts))[:2000]
