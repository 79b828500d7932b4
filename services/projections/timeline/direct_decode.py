"""The card + timeline projection's own decoding of its three common events, straight into rows.

Validating every record through the contract's pydantic models was most of the worker's CPU
in a replay (bench/README.md). Here the record is parsed once and its rows are built from
the plain values.

The digest only ever *accepts* a record that the contract's full decode would accept, with
the same rows: it checks what the models check (types, literals, lengths, NUL, times, the
interaction's details and identifiers), and whatever it does not recognise exactly (another
spelling, a wrong type, an odd value, any other event type) it leaves to the full decode,
which then decides, and dead-letters with its reason. Tests compare both on good and
mutated records.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic_core import from_json

from events.catalog import CustomerRegistered, IdentifierLinked, InteractionAttributed
from events.envelope import SPEC_VERSION, Envelope, type_of, upcasts
from events.identifiers import identifiers_tuple
from events.interaction import (
    MAX_BODY_CHARS,
    MAX_DETAILS_BYTES,
    MAX_DETAILS_DEPTH,
    Channel,
    CustomerRef,
    Direction,
    Interaction,
    details_depth,
    details_json,
    has_nul,
)

# The fields each check below was written for: a field added to a model must be taught here
# first, or the module refuses to load (the digest would otherwise accept what the model
# refuses, or drop what it keeps).
_KNOWN_FIELDS: dict[type[Any], tuple[str, ...]] = {
    Envelope: ("specversion", "id", "type", "source", "time", "subject", "datacontenttype",
               "sequence", "data"),
    CustomerRegistered: ("customer_id", "first_interaction_id", "at"),
    IdentifierLinked: ("customer_id", "kind", "value", "valid", "interaction_id", "channel", "at"),
    InteractionAttributed: ("customer_id", "interaction_id", "interaction"),
    Interaction: ("channel", "external_id", "occurred_at", "direction", "customer", "agent_id",
                  "subject", "body", "details"),
    CustomerRef: ("phone", "email", "name", "handle"),
}
for _model, _fields in _KNOWN_FIELDS.items():
    if tuple(_model.model_fields) != _fields:
        raise TypeError(f"{_model.__name__} fields changed: {list(_model.model_fields)}; teach the digest")

_ENVELOPE_KEYS = frozenset(_KNOWN_FIELDS[Envelope])
_REGISTERED_KEYS = frozenset(_KNOWN_FIELDS[CustomerRegistered])
_LINKED_KEYS = frozenset(_KNOWN_FIELDS[IdentifierLinked])
_LINKED_REQUIRED = _LINKED_KEYS - {"valid"}
_ATTRIBUTED_KEYS = frozenset(_KNOWN_FIELDS[InteractionAttributed])
_INTERACTION_KEYS = frozenset(_KNOWN_FIELDS[Interaction])
_INTERACTION_REQUIRED = frozenset(("channel", "external_id", "occurred_at", "direction", "customer"))
_CUSTOMER_LIMITS = {"phone": 64, "email": 320, "name": 256, "handle": 256}
_IDENTIFIER_KINDS = frozenset(("phone", "email", "handle"))
_CHANNELS = {c.value: c.value for c in Channel}
_DIRECTIONS = {d.value: d.value for d in Direction}
# One spelling of RFC 3339 that pydantic and datetime.fromisoformat read alike (other spellings,
# e.g. a lower-case "t" or nanoseconds, go to the full decode).
# ([0-9], not \d: that would match any script's digits.)
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:Z|[+-][0-9]{2}:[0-9]{2})")


class Digest:
    """The rows one event adds to a batch (see ``apply.Rows``)."""

    __slots__ = ("customer", "identifier", "timeline", "seen", "name")

    def __init__(self, customer: tuple[str, datetime] | None = None,
                 identifier: tuple[str, str, str, bool, str, datetime, datetime] | None = None,
                 timeline: tuple[object, ...] | None = None,
                 seen: tuple[tuple[datetime, str, str, str], ...] = (),
                 name: tuple[str, datetime, str] | None = None) -> None:
        self.customer = customer
        self.identifier = identifier
        self.timeline = timeline
        self.seen = seen
        self.name = name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Digest) and all(
            getattr(self, s) == getattr(other, s) for s in self.__slots__)

    def __repr__(self) -> str:
        return "Digest(" + ", ".join(f"{s}={getattr(self, s)!r}" for s in self.__slots__) + ")"


def digest(raw: bytes | None) -> Digest | None:
    """The rows of a registration, link or attribution; None: use the full decode."""
    if raw is None:
        return None
    try:
        doc = from_json(raw)  # pydantic's own JSON parser: the same values the models would see
    except ValueError:
        return None
    try:
        if type(doc) is not dict or not _ENVELOPE_KEYS.issuperset(doc):
            return None
        read = _READERS.get(doc.get("type"))  # type: ignore[arg-type]
        if read is None or not _envelope_ok(doc):
            return None
        return read(doc["data"], doc.get("sequence"))
    except (TypeError, ValueError, KeyError, AttributeError, OverflowError):
        return None  # anything unexpected: the full decode decides


def _envelope_ok(doc: dict[str, Any]) -> bool:
    sequence, subject = doc.get("sequence"), doc.get("subject")
    return (
        doc.get("specversion", SPEC_VERSION) == SPEC_VERSION
        and doc.get("datacontenttype", "application/json") == "application/json"
        and type(doc.get("id")) is str and type(doc.get("source")) is str
        and type(doc.get("data")) is dict
        and (sequence is None or (type(sequence) is int and -_BIGINT <= sequence < _BIGINT))
        and (subject is None or type(subject) is str)
        and not upcasts(doc["type"])
        and _time(doc.get("time")) is not None
    )


_BIGINT = 2**63  # the timeline's seq column
_last_time: tuple[str, datetime] = ("", datetime.min)


def _time(value: object) -> datetime | None:
    """The instant of an RFC 3339 string in the one spelling above, else None."""
    global _last_time
    if type(value) is not str:
        return None
    if value == _last_time[0]:  # a relay batch's envelopes share one time
        return _last_time[1]
    if _TIME.fullmatch(value) is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    _last_time = (value, parsed)
    return parsed


def _registered(data: dict[str, Any], sequence: int | None) -> Digest | None:
    if data.keys() != _REGISTERED_KEYS:
        return None
    cid, at = data["customer_id"], _time(data["at"])
    if type(cid) is not str or type(data["first_interaction_id"]) is not str or at is None:
        return None
    return Digest(customer=(cid, at.astimezone(UTC)))


def _linked(data: dict[str, Any], sequence: int | None) -> Digest | None:
    keys = data.keys()
    if not (_LINKED_REQUIRED <= keys <= _LINKED_KEYS):
        return None
    cid, kind, value, channel = data["customer_id"], data["kind"], data["value"], data["channel"]
    valid, at = data.get("valid", True), _time(data["at"])
    if (type(cid) is not str or kind not in _IDENTIFIER_KINDS or type(kind) is not str
            or type(value) is not str or type(channel) is not str or type(valid) is not bool
            or type(data["interaction_id"]) is not str or at is None):
        return None
    at = at.astimezone(UTC)
    return Digest(identifier=(cid, kind, value, valid, channel, at, at))


def _text(value: object, longest: int, shortest: int = 0) -> bool:
    """None, or a str of the allowed length without NUL (PostgreSQL text cannot hold it)."""
    return value is None or (
        type(value) is str and shortest <= len(value) <= longest and "\x00" not in value)


def _attributed(data: dict[str, Any], sequence: int | None) -> Digest | None:
    if data.keys() != _ATTRIBUTED_KEYS:
        return None
    cid, iid, i = data["customer_id"], data["interaction_id"], data["interaction"]
    if type(cid) is not str or type(iid) is not str or type(i) is not dict:
        return None
    keys = i.keys()
    if not (_INTERACTION_REQUIRED <= keys <= _INTERACTION_KEYS):
        return None
    channel, direction = _CHANNELS.get(i["channel"]), _DIRECTIONS.get(i["direction"])  # type: ignore[arg-type]
    external_id, occurred = i["external_id"], i["occurred_at"]
    agent_id, subject, body = i.get("agent_id"), i.get("subject"), i.get("body")
    details = i.get("details", {})
    if (channel is None or direction is None or type(i["channel"]) is not str
            or type(i["direction"]) is not str
            or type(external_id) is not str or not _text(external_id, 256, 1) or external_id.isspace()
            or not _text(agent_id, 128, 1) or not _text(subject, 1000)
            or not _text(body, MAX_BODY_CHARS) or type(details) is not dict):
        return None
    at = _time(occurred)
    if at is None or not 2 <= at.year <= 9998:  # the model's representable range, without converting
        return None
    customer = _customer(i["customer"])
    if customer is None:
        return None
    details_json = _details(details)
    if details_json is None:
        return None
    identifiers, name = customer
    at = at.astimezone(UTC)
    return Digest(
        customer=(cid, at),
        timeline=(iid, cid, sequence or 0, external_id, channel, direction, at, agent_id, subject,
                  body, details_json),
        seen=tuple((at, cid, ident.kind, ident.value) for ident in identifiers),
        name=(name, at, cid) if name else None,
    )


def _customer(ref: object) -> tuple[tuple[Any, ...], str | None] | None:
    """(identifiers, name) of a customer reference the model keeps as it is, else None."""
    if type(ref) is not dict or not _CUSTOMER_LIMITS.keys() >= ref.keys():
        return None
    for field, value in ref.items():
        # The model strips whitespace; a value that would change is left to it.
        if not _text(value, _CUSTOMER_LIMITS[field]) or (value is not None and value != value.strip()):
            return None
    phone, email, handle = ref.get("phone"), ref.get("email"), ref.get("handle")
    if not (phone or email or handle):
        return None
    identifiers = identifiers_tuple(phone, email, handle)
    if not identifiers:
        return None
    return identifiers, ref.get("name")


def _details(details: dict[str, Any]) -> str | None:
    """The details' JSON text when the model accepts them (depth, size, NUL), else None."""
    if details_depth(details) > MAX_DETAILS_DEPTH:
        return None
    text = details_json(details)
    if len(text) > MAX_DETAILS_BYTES // 4 and len(text.encode()) > MAX_DETAILS_BYTES:
        return None  # a text of at most a quarter of the limit in chars fits in bytes (UTF-8: <= 4 each)
    if "\\u0000" in text and has_nul(details):
        return None
    return text


_READERS: dict[str, Callable[[dict[str, Any], int | None], Digest | None]] = {
    type_of(CustomerRegistered): _registered,
    type_of(IdentifierLinked): _linked,
    type_of(InteractionAttributed): _attributed,
}
