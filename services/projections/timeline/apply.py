"""Pure: customer events -> the rows of the card and timeline read models."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from events.catalog import CustomerRegistered, IdentifierLinked, InteractionAttributed
from events.envelope import Envelope
from events.identity import (
    CustomerMerged,
    CustomerSplit,
    IdentifierUnlinked,
    InteractionReattributed,
    SuspiciousLinkRecorded,
)
from events.interaction import details_json
from events.privacy import CustomerErased
from services.projections.records import Decoded
from services.projections.timeline.direct_decode import Digest


@dataclass
class Rows:
    """Everything one batch writes; each list is applied idempotently."""

    customers: list[tuple[str, datetime]] = field(default_factory=list)
    identifiers: list[tuple[str, str, str, bool, str, datetime, datetime]] = field(default_factory=list)
    seen: list[tuple[datetime, str, str, str]] = field(default_factory=list)
    names: list[tuple[str, datetime, str]] = field(default_factory=list)
    timeline: list[tuple[object, ...]] = field(default_factory=list)
    merges: list[tuple[str, str]] = field(default_factory=list)  # (merged, survivor), in log order
    unlinks: list[tuple[str, str, str]] = field(default_factory=list)  # (customer, kind, value)
    reattributions: list[tuple[str, str]] = field(default_factory=list)  # (customer, interaction)
    splits: list[tuple[str, str]] = field(default_factory=list)  # (source, target), in log order
    history: list[tuple[str, str, str, list[str], datetime, str]] = field(default_factory=list)
    erasures: list[str] = field(default_factory=list)  # customers whose rows all go, after the rest


def rows_for(events: list[tuple[Envelope, BaseModel]]) -> Rows:
    """Rows for a batch, in log order (per-customer order comes from the envelope sequence)."""
    rows = Rows()
    for envelope, payload in events:
        _apply(rows, envelope, payload)
    return rows


def rows_of(items: list[Decoded]) -> Rows:
    """:func:`rows_for` of a polled batch, whose common events come digested (see ``digest``)."""
    rows = Rows()
    for item in items:
        found = item.digest
        if not isinstance(found, Digest):
            _apply(rows, item.envelope, item.payload)
            continue
        if found.customer is not None:
            rows.customers.append(found.customer)
        if found.identifier is not None:
            rows.identifiers.append(found.identifier)
        if found.timeline is not None:
            rows.timeline.append(found.timeline)
        if found.seen:
            rows.seen += found.seen
        if found.name is not None:
            rows.names.append(found.name)
    return rows


def _apply(rows: Rows, envelope: Envelope, payload: BaseModel) -> None:  # noqa: C901 - one branch per event
    if isinstance(payload, CustomerRegistered):
        rows.customers.append((payload.customer_id, _utc(payload.at)))
    elif isinstance(payload, IdentifierLinked):
        at = _utc(payload.at)
        rows.identifiers.append((payload.customer_id, payload.kind, payload.value, payload.valid,
                                 payload.channel, at, at))
    elif isinstance(payload, InteractionAttributed):
        _attribution(rows, envelope, payload)
    elif isinstance(payload, CustomerMerged):
        at = _utc(payload.at)
        rows.customers += [(payload.merged_id, at), (payload.survivor_id, at)]
        rows.merges.append((payload.merged_id, payload.survivor_id))
        proof: dict[str, Any] = {"interaction_id": payload.interaction_id, "keys": payload.keys}
        _history(rows, envelope, payload.survivor_id, "merged_in", [payload.merged_id], payload.at, proof)
        _history(rows, envelope, payload.merged_id, "merged_into", [payload.survivor_id], payload.at, proof)
    elif isinstance(payload, IdentifierUnlinked):
        kind, _, value = payload.key.partition(":")
        rows.unlinks.append((payload.customer_id, kind, value))
    elif isinstance(payload, CustomerSplit):
        proof = {"keys": payload.keys, "interaction_ids": payload.interaction_ids,
                 "requested_by": payload.requested_by, "reason": payload.reason,
                 "command_id": payload.command_id}
        rows.customers.append((payload.target_id, _utc(payload.at)))
        rows.splits.append((payload.source_id, payload.target_id))
        _history(rows, envelope, payload.source_id, "split_off", [payload.target_id], payload.at, proof)
        _history(rows, envelope, payload.target_id, "split_from", [payload.source_id], payload.at, proof)
    elif isinstance(payload, InteractionReattributed):
        rows.reattributions.append((payload.customer_id, payload.interaction_id))
    elif isinstance(payload, CustomerErased):
        rows.erasures.append(payload.customer_id)
    elif isinstance(payload, SuspiciousLinkRecorded):
        proof = {"key": payload.key, "reason": payload.reason, "interaction_id": payload.interaction_id}
        _history(rows, envelope, payload.customer_id, "suspicious_link", payload.other_customer_ids,
                 payload.at, proof)


def _utc(at: datetime) -> datetime:
    # The same instant, spelt with offset zero: rows travel to PostgreSQL as COPY text, and its
    # timestamptz input refuses offsets beyond +-15:59 that RFC 3339 (and the contract) allow.
    return at.astimezone(UTC)


def _history(rows: Rows, envelope: Envelope, customer_id: str, kind: str, others: list[str],
             at: datetime, evidence: dict[str, Any]) -> None:
    # One event can write two history rows (both sides of a merge): derive each row's id.
    row_id = str(uuid.uuid5(uuid.UUID(envelope.id), f"{kind}:{customer_id}"))
    rows.history.append((row_id, customer_id, kind, others, at, json.dumps(evidence, ensure_ascii=False)))


def _attribution(rows: Rows, envelope: Envelope, payload: InteractionAttributed) -> None:
    i = payload.interaction
    identifiers = i.customer.identifiers()
    at = _utc(i.occurred_at)
    rows.customers.append((payload.customer_id, at))
    rows.timeline.append((
        payload.interaction_id, payload.customer_id, envelope.sequence or 0, i.external_id,
        i.channel.value, i.direction.value, at, i.agent_id, i.subject, i.body,
        details_json(i.details),
    ))
    for ident in identifiers:
        rows.seen.append((at, payload.customer_id, ident.kind, ident.value))
    if i.customer.name:
        rows.names.append((i.customer.name, at, payload.customer_id))
