"""What the duplicate finder takes from each record it consumes (pure).

Attributed interactions and profile changes give attribute observations; merges,
re-attributions and decisions change whom observations and proposals belong to.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from events.catalog import InteractionAttributed
from events.duplicates import DuplicateRejected, MergeRequested
from events.identity import CustomerMerged, InteractionReattributed, SuspiciousLinkRecorded
from events.privacy import CustomerErased
from events.work import ProfileChanged
from services.projections.duplicates.attributes import MatchRecord, match_record
from services.projections.timeline.direct_decode import Digest

Observation = tuple[str, str, str, str, str, datetime]  # source, attribute, value, customer, channel, at
MATCHED = ("name", "birth_date", "address", "company", "phone", "email")


@dataclass
class Changes:
    """A batch's effects, in the order the store applies them."""

    observations: list[Observation] = field(default_factory=list)
    merges: list[tuple[str, str]] = field(default_factory=list)  # (survivor, merged)
    moves: list[tuple[str, str, str]] = field(default_factory=list)  # (interaction, from, to)
    accepted: list[MergeRequested] = field(default_factory=list)
    rejected: list[DuplicateRejected] = field(default_factory=list)
    held: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)  # pair -> (key, reason)
    erased: list[str] = field(default_factory=list)  # applied last: nothing of them is scored again

    def touched(self) -> set[str]:
        """Customers whose matching record may have changed."""
        found = {o[3] for o in self.observations} | {s for s, _ in self.merges}
        return (found | {c for _, a, b in self.moves for c in (a, b)}) - set(self.erased)


def _interaction(event: InteractionAttributed) -> Iterable[Observation]:
    i = event.interaction
    seen = [("name", i.customer.name)] if i.customer.name else []
    seen += [(ident.kind, ident.value) for ident in i.customer.identifiers() if ident.kind != "handle"]
    seen += _details(i.details)
    for attribute, value in seen:
        yield event.interaction_id, attribute, value, event.customer_id, i.channel.value, i.occurred_at


DETAILS = ("birth_date", "address", "company")


def _details(details: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    for attribute in DETAILS:
        value = details.get(attribute)
        if isinstance(value, str) and value.strip():
            found.append((attribute, value.strip()[:500]))
    return found


def _digested(found: Digest) -> Iterable[Observation]:
    """:func:`_interaction` of an attribution the card's own decoding read (registrations and
    links, which observe nothing, have no timeline row)."""
    if found.timeline is None:
        return
    row: tuple[Any, ...] = found.timeline
    iid, cid, channel, at, details = row[0], row[1], row[4], row[6], row[10]
    seen = [("name", found.name[0])] if found.name else []
    seen += [(kind, value) for _, _, kind, value in found.seen if kind != "handle"]
    if any(f'"{a}"' in details for a in DETAILS):  # most details hold none of them: no parse
        seen += _details(json.loads(details))
    for attribute, value in seen:
        yield iid, attribute, value, cid, channel, at


def _profile(event: ProfileChanged) -> Iterable[Observation]:
    for attribute in ("name", "birth_date", "company"):
        value = getattr(event, attribute)
        if attribute in event.fields and value is not None:
            yield event.change_id, attribute, str(value), event.customer_id, "profile", event.at


def changes(payloads: Sequence[BaseModel | Digest]) -> Changes:
    """A batch's changes from its payloads, or the digests of its common records."""
    out = Changes()
    for p in payloads:
        if isinstance(p, Digest):
            out.observations.extend(_digested(p))
        elif isinstance(p, InteractionAttributed):
            out.observations.extend(_interaction(p))
        elif isinstance(p, ProfileChanged):
            out.observations.extend(_profile(p))
        elif isinstance(p, CustomerMerged):
            out.merges.append((p.survivor_id, p.merged_id))
        elif isinstance(p, InteractionReattributed):
            out.moves.append((p.interaction_id, p.from_customer_id, p.customer_id))
        elif isinstance(p, MergeRequested):
            out.accepted.append(p)
        elif isinstance(p, DuplicateRejected):
            out.rejected.append(p)
        elif isinstance(p, CustomerErased):
            out.erased.append(p.customer_id)
        elif isinstance(p, SuspiciousLinkRecorded):  # a guard held a merge: proposed whatever its score
            for other in p.other_customer_ids:
                a, b = sorted((p.customer_id, other))
                out.held[(a, b)] = (p.key, p.reason)
    return out


def _in_force_order(rows: Iterable[tuple[str, str, str, datetime]]) -> list[tuple[str, str, str, datetime]]:
    return sorted(rows, key=lambda r: (r[2] == "profile", r[3]))


def latest(rows: Iterable[tuple[str, str, str, datetime]]) -> dict[str, str]:
    """Per attribute, the value a matching record takes: a profile's value wins, otherwise the latest seen."""
    return {attribute: value for attribute, value, _, _ in _in_force_order(rows)}


def record_of(customer_id: str, rows: Iterable[tuple[str, str, str, datetime]]) -> MatchRecord:
    """The matching record from (attribute, value, channel, at) rows (see :func:`latest`)."""
    ordered = _in_force_order(rows)
    in_force = {attribute: value for attribute, value, _, _ in ordered}
    return match_record(customer_id, names=[v for a, v, _, _ in ordered if a == "name"],
                        birth_date=in_force.get("birth_date"), address=in_force.get("address"),
                        company=in_force.get("company"),
                        phones=[v for a, v, _, _ in ordered if a == "phone"],
                        emails=[v for a, v, _, _ in ordered if a == "email"])
