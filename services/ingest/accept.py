"""Pure acceptance logic: validate a raw item and give it its deterministic id."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from events import ids
from events.catalog import INTERACTION_RECEIVED  # noqa: F401  (registers the type)
from events.envelope import serialise, serialise_many
from events.interaction import Interaction

SOURCE = "kartoteka/ingest"


@dataclass(slots=True)  # not frozen: a frozen __init__ cost a third of building one
class Accepted:
    """A valid interaction, ready to be produced."""

    id: str
    interaction: Interaction
    subject: str = field(init=False, repr=False, compare=False)
    """The primary identifier's key: the record's key and the envelope's subject."""

    def __post_init__(self) -> None:
        self.subject = self.interaction.primary_identifier().key

    @property
    def key(self) -> bytes:
        return self.subject.encode()

    def record(self, received_at: datetime) -> bytes:
        return serialise(self.interaction, id=self.id, source=SOURCE, time=received_at,
                         subject=self.subject)


def records(items: list[Accepted], received_at: datetime) -> list[bytes]:
    """``[item.record(received_at) for item in items]``, sharing what the records have in common."""
    return serialise_many(((a.interaction, a.id, a.subject) for a in items), source=SOURCE,
                          time=received_at)


@dataclass(frozen=True)
class Rejected:
    """An item that will never be accepted as sent; ``reason`` says why."""

    reason: str
    id: str | None = None


def describe(error: ValidationError) -> str:
    parts = []
    for err in error.errors()[:10]:
        where = ".".join(str(p) for p in err.get("loc", ()))
        parts.append(f"{where}: {err['msg']}" if where else err["msg"])
    return "; ".join(parts)


def accept(raw: Any, secret: bytes) -> Accepted | Rejected:
    """Validate one item of a request body; ``secret`` keys the deterministic ids."""
    if not isinstance(raw, dict):
        return Rejected("item must be a JSON object")
    try:
        interaction = Interaction.model_validate(raw)
    except ValidationError as exc:
        known = _id_if_identifiable(raw, secret)
        return Rejected(describe(exc), known)
    return accepted(interaction, secret)


def accepted(interaction: Interaction, secret: bytes) -> Accepted:
    """An interaction that is already valid, with its deterministic id."""
    return Accepted(ids.interaction_id(interaction.channel.value, interaction.external_id, secret),
                    interaction)


def _id_if_identifiable(raw: dict[str, Any], secret: bytes) -> str | None:
    channel, external_id = raw.get("channel"), raw.get("external_id")
    if isinstance(channel, str) and isinstance(external_id, str) and external_id:
        return ids.interaction_id(channel, external_id, secret)
    return None
