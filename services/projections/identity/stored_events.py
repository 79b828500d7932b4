"""Stored identity events built straight from the resolver's decisions.

Recording through the ``Customer`` and ``Attribution`` aggregates costs eventsourcing's
per-event machinery for every link and attribution (bench/README.md). This module writes the
very same stored state (same topics, same fields in the same order, same encodings; tests
compare it with the aggregates' own, and replay it through them) from plain values. Field
names come from the aggregates' event classes, so a new parameter there cannot be forgotten here.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from services.projections.identity.domain import Attribution, Customer

_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
quote: Callable[[str], str] = json.encoder.encode_basestring  # type: ignore[attr-defined]


class Raw(str):
    """A value already spelt as JSON."""

    __slots__ = ()


def when(value: datetime) -> Raw:
    """A datetime as eventsourcing's ``JSONTranscoder`` stores it (``DatetimeAsISO``)."""
    return Raw(f'{{"_type_":"datetime_iso","_data_":"{value.isoformat()}"}}')


def to_json(value: Any) -> str:
    """Compact JSON, as the library's encoder writes it."""
    # The encoder object builds its C encoder on every call: more than a few fields cost.
    kind = type(value)
    if kind is Raw:
        return value  # type: ignore[no-any-return]
    if kind is str:
        return quote(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    return _encode(value)


class Kind:
    """One aggregate event class: its topic and the fields its state holds, in order."""

    def __init__(self, event_class: type, created_by: type | None = None):
        self.topic = get_topic(event_class)
        names = [f.name for f in dataclasses.fields(event_class)]  # type: ignore[arg-type]
        # The mapper keeps every field but these two (they become columns), in this order.
        if names[:3] != ["originator_id", "originator_version", "timestamp"]:
            raise TypeError(f"unexpected fields of {self.topic}: {names}")
        self.fields = tuple(names[3:])
        # A created event also names the aggregate class it creates.
        head = ""
        if created_by is not None:
            if self.fields[0] != "originator_topic":
                raise TypeError(f"{self.topic} does not name its aggregate")
            head = f',"originator_topic":{quote(get_topic(created_by))}'
            self.fields = self.fields[1:]
        self.head = head
        self.prefixes = tuple(f",{quote(name)}:" for name in self.fields)

    def state(self, timestamp: Raw, values: tuple[Any, ...]) -> bytes:
        """``values`` in field order, datetimes already spelt by :func:`when`."""
        if len(values) != len(self.prefixes):
            raise TypeError(f"{self.topic} takes {self.fields}, got {len(values)} values")
        body = "".join([p + to_json(v) for p, v in zip(self.prefixes, values, strict=True)])
        return f'{{"timestamp":{timestamp}{self.head}{body}}}'.encode()


REGISTERED = Kind(Customer.Registered, created_by=Customer)  # type: ignore[attr-defined]
LINKED = Kind(Customer.IdentifierLinked)  # type: ignore[attr-defined]
UNLINKED = Kind(Customer.IdentifierUnlinked)  # type: ignore[attr-defined]
ABSORBED = Kind(Customer.Absorbed)  # type: ignore[attr-defined]
MERGED_INTO = Kind(Customer.MergedInto)  # type: ignore[attr-defined]
SPLIT_OFF = Kind(Customer.SplitOff)  # type: ignore[attr-defined]
FLAGGED = Kind(Customer.SuspiciousLinkFlagged)  # type: ignore[attr-defined]
ERASED = Kind(Customer.Erased)  # type: ignore[attr-defined]
ATTRIBUTED = Kind(Attribution.Attributed, created_by=Attribution)  # type: ignore[attr-defined]
REATTRIBUTED = Kind(Attribution.Reattributed)  # type: ignore[attr-defined]

if ATTRIBUTED.fields != ("interaction_id", "customer_id", "interaction"):
    raise TypeError(f"attributed_state() writes {ATTRIBUTED.topic} as it was, not as {ATTRIBUTED.fields}")


def attributed_state(timestamp: Raw, interaction_id: str, customer_id: str, interaction_json: bytes) -> bytes:
    """``Attribution.Attributed`` with the interaction spliced in as the JSON it already is.

    The interaction is most of the bytes; encoding it from a dict again cost more than
    everything else the resolver records for it.
    """
    head = (f'{{"timestamp":{timestamp}{ATTRIBUTED.head},"interaction_id":{quote(interaction_id)}'
            f',"customer_id":{quote(customer_id)},"interaction":')
    return b"".join((head.encode(), interaction_json, b"}"))


class EventLog:
    """The events one batch appends, per aggregate, with versions that follow what is stored.

    ``versions`` holds each existing aggregate's last stored version. An aggregate that is
    neither there nor created in this batch does not exist: appending to it is a bug, as
    loading it from the repository would have been. Events are returned grouped by aggregate,
    customers first, in the order the aggregates were first touched, as ``Application.save``
    of those aggregates would have recorded them.
    """

    def __init__(self, versions: dict[str, int], now: datetime) -> None:
        self.versions = dict(versions)
        self.timestamp = when(now)
        # By identity: equal datetimes in other offsets are spelt differently.
        self._times: dict[int, tuple[datetime, Raw]] = {}
        self.customers: dict[str, list[StoredEvent]] = {}
        self.attributions: dict[str, list[StoredEvent]] = {}

    def when(self, at: datetime) -> Raw:
        """:func:`when`, once per moment: an interaction's registration and links share it."""
        found = self._times.get(id(at))
        if found is None or found[0] is not at:
            found = self._times[id(at)] = (at, when(at))
        return found[1]

    def create(self, aggregates: dict[str, list[StoredEvent]], originator_id: str, kind: Kind,
               state: bytes) -> None:
        """Version 1: if the aggregate exists already, the insert conflicts, like a second create."""
        self._add(aggregates, originator_id, 1, kind, state)

    def append(self, aggregates: dict[str, list[StoredEvent]], originator_id: str, kind: Kind,
               values: tuple[Any, ...]) -> None:
        last = self.versions.get(originator_id)
        if last is None:
            raise LookupError(f"aggregate {originator_id} not found")
        self._add(aggregates, originator_id, last + 1, kind, kind.state(self.timestamp, values))

    def _add(self, aggregates: dict[str, list[StoredEvent]], originator_id: str, version: int,
             kind: Kind, state: bytes) -> None:
        self.versions[originator_id] = version
        aggregates.setdefault(originator_id, []).append(
            StoredEvent(originator_id=originator_id, originator_version=version, topic=kind.topic,
                        state=state))

    def stored(self) -> list[StoredEvent]:
        return [e for group in (self.customers, self.attributions) for events in group.values()
                for e in events]
