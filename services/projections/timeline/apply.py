"""Pure: customer events -> the rows of the card and timeline read models."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel

from events.catalog import CustomerRegistered, IdentifierLinked, InteractionAttributed
from events.envelope import Envelope


@dataclass
class Rows:
    """Everything one batch writes; each list is applied idempotently."""

    customers: list[tuple[str, datetime]] = field(default_factory=list)
    identifiers: list[tuple[str, str, str, bool, str, datetime, datetime]] = field(
        default_factory=list
    )
    seen: list[tuple[datetime, str, str, str]] = field(default_factory=list)
    names: list[tuple[str, datetime, str]] = field(default_factory=list)
    timeline: list[tuple[object, ...]] = field(default_factory=list)


def rows_for(events: list[tuple[Envelope, BaseModel]]) -> Rows:
    """Rows for a batch, in log order (per-customer order comes from the envelope sequence)."""
    rows = Rows()
    for envelope, payload in events:
        if isinstance(payload, CustomerRegistered):
            rows.customers.append((payload.customer_id, payload.at))
        elif isinstance(payload, IdentifierLinked):
            rows.identifiers.append(
                (
                    payload.customer_id,
                    payload.kind,
                    payload.value,
                    payload.valid,
                    payload.channel,
                    payload.at,
                    payload.at,
                )
            )
        elif isinstance(payload, InteractionAttributed):
            _attribution(rows, envelope, payload)
    return rows


def _attribution(rows: Rows, envelope: Envelope, payload: InteractionAttributed) -> None:
    i = payload.interaction
    rows.customers.append((payload.customer_id, i.occurred_at))
    rows.timeline.append(
        (
            payload.interaction_id,
            payload.customer_id,
            envelope.sequence or 0,
            i.external_id,
            i.channel.value,
            i.direction.value,
            i.occurred_at,
            i.agent_id,
            i.subject,
            i.body,
            json.dumps(i.details, ensure_ascii=False),
        )
    )
    for ident in i.customer.identifiers():
        rows.seen.append((i.occurred_at, payload.customer_id, ident.kind, ident.value))
    if i.customer.name:
        rows.names.append((i.customer.name, i.occurred_at, payload.customer_id))
