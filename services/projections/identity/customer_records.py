"""The customers.v1 records of the recorded identity log: stored event -> contract event JSON.

The relay publishes what this module encodes (``relay/sources.py``); the card + timeline
projection reads it back through the contract (or its ``direct_decode``).
"""

from __future__ import annotations

import json
from typing import Any

from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic
from pydantic import BaseModel

from events import sealing
from events.catalog import CustomerRegistered, IdentifierLinked, InteractionAttributed
from events.envelope import type_of
from events.identity import (
    CustomerMerged,
    CustomerSplit,
    IdentifierUnlinked,
    InteractionReattributed,
    SuspiciousLinkRecorded,
)
from events.ids import derived_event_id
from events.privacy import CustomerErased
from services.projections.identity import stored_events as stored
from services.projections.identity.domain import Attribution, Customer
from services.projections.identity.stored_events import Raw, quote, to_json

SOURCE = "kartoteka/identity"


_ORIGINATOR = object()  # a contract field taken from the stored event's originator id


class _Contract:
    """How one stored event becomes its contract event's JSON, without building the model.

    Validating the contract model again per event would re-run what ingest and the resolver
    already checked (bench/README.md). The stored state holds plain JSON values already, so
    the contract's JSON is written straight from them, field by field in the model's order
    and with the model's datetime spelling (tests compare it with the validated models',
    kind by kind).
    """

    def __init__(self, model: type[BaseModel], fields: dict[str, object], key: str,
                 datetimes: tuple[str, ...] = ()) -> None:
        if list(fields) != list(model.model_fields):
            raise TypeError(f"{model.__name__} fields are {list(model.model_fields)}, not {list(fields)}")
        self.type = type_of(model)
        self.type_json = quote(self.type)
        self.header = [("event-type", self.type.encode())]
        self.fields = [(f",{quote(name)}:", source, name in datetimes) for name, source in fields.items()]
        self.key = fields[key]

    def data(self, originator: str, state: dict[str, Any]) -> tuple[str, str]:
        """(key, data JSON)."""
        parts = []
        for prefix, source, is_datetime in self.fields:
            value: Any = originator if source is _ORIGINATOR else state[source]  # type: ignore[index]
            parts.append(prefix + (quote(_datetime(value)) if is_datetime else to_json(value)))
        key = originator if self.key is _ORIGINATOR else state[self.key]  # type: ignore[index]
        return key, "{" + "".join(parts)[1:] + "}"


def _datetime(stored: dict[str, str]) -> str:
    """A datetime as eventsourcing stored it (``isoformat``), spelt as pydantic writes it."""
    if stored.get("_type_") != "datetime_iso":
        raise ValueError(f"not a stored datetime: {stored!r}")
    text = stored["_data_"]
    return text[:-6] + "Z" if text.endswith("+00:00") else text


_ATTRIBUTED = _Contract(
    InteractionAttributed, {"customer_id": "customer_id", "interaction_id": "interaction_id",
                            "interaction": "interaction"}, "customer_id")
_CONTRACTS: dict[str, _Contract | None] = {
    get_topic(Customer.Registered): _Contract(  # type: ignore[attr-defined]
        CustomerRegistered, {"customer_id": _ORIGINATOR, "first_interaction_id": "first_interaction_id",
                             "at": "at"}, "customer_id", ("at",)),
    get_topic(Customer.IdentifierLinked): _Contract(  # type: ignore[attr-defined]
        IdentifierLinked, {"customer_id": _ORIGINATOR, "kind": "kind", "value": "value", "valid": "valid",
                           "interaction_id": "interaction_id", "channel": "channel", "at": "at"},
        "customer_id", ("at",)),
    get_topic(Customer.IdentifierUnlinked): _Contract(  # type: ignore[attr-defined]
        IdentifierUnlinked, {"customer_id": _ORIGINATOR, "key": "key", "command_id": "command_id", "at": "at"},
        "customer_id", ("at",)),
    get_topic(Customer.MergedInto): _Contract(  # type: ignore[attr-defined]
        CustomerMerged, {"survivor_id": "survivor_id", "merged_id": _ORIGINATOR,
                         "interaction_id": "interaction_id", "keys": "keys", "at": "at"},
        "merged_id", ("at",)),  # after every earlier event of the merged customer
    get_topic(Customer.SplitOff): _Contract(  # type: ignore[attr-defined]
        CustomerSplit, {"source_id": _ORIGINATOR, "target_id": "target_id", "keys": "keys",
                        "interaction_ids": "interaction_ids", "command_id": "command_id",
                        "requested_by": "requested_by", "reason": "reason", "at": "at"},
        "source_id", ("at",)),
    get_topic(Customer.SuspiciousLinkFlagged): _Contract(  # type: ignore[attr-defined]
        SuspiciousLinkRecorded, {"customer_id": _ORIGINATOR, "other_customer_ids": "others", "key": "key",
                                 "interaction_id": "interaction_id", "reason": "reason", "at": "at"},
        "customer_id", ("at",)),
    get_topic(Attribution.Attributed): _ATTRIBUTED,  # type: ignore[attr-defined]
    get_topic(Attribution.Reattributed): _Contract(  # type: ignore[attr-defined]
        InteractionReattributed, {"interaction_id": _ORIGINATOR, "from_customer_id": "from_customer_id",
                                  "customer_id": "customer_id", "command_id": "command_id",
                                  "original_customer_id": "original_customer_id"},
        "original_customer_id"),  # after the interaction's attribution
    get_topic(Customer.Erased): _Contract(  # type: ignore[attr-defined]
        CustomerErased, {"customer_id": _ORIGINATOR, "erased_as": "erased_as", "command_id": "command_id",
                         "at": "at"}, "customer_id", ("at",)),
    get_topic(Customer.Absorbed): None,  # type: ignore[attr-defined]  # the merged side's event carries the merge
}
# The interaction is the last field of every stored attribution (the resolver's and the
# aggregate's alike): its JSON is passed on as stored, not parsed and spelt again.
_INTERACTION = b',"interaction":'
if stored.ATTRIBUTED.fields[-1] != "interaction":
    raise TypeError("Attribution.Attributed must keep the interaction last")


def _state(contract: _Contract, state: bytes, key: bytes | None) -> dict[str, Any]:
    # Plain JSON: the library's decoder would also turn a {"_type_", "_data_"} pair that a
    # channel put in an interaction's details into an object, or fail on it.
    if contract is _ATTRIBUTED:
        # The first occurrence is the key: every field before it is an id, a topic or a time.
        at = state.find(_INTERACTION)
        if at > 0 and state.endswith(b"}"):
            # Text, not bytes: json.loads of bytes first guesses their encoding in Python.
            head = json.loads((state[:at] + b"}").decode())
            interaction = state[at + len(_INTERACTION):-1].decode()
            if interaction.startswith('"'):  # sealed in the store: opened only to be sealed again
                interaction = sealing.unseal_field(_need(key), json.loads(interaction))
            head["interaction"] = Raw(interaction)
            return head  # type: ignore[no-any-return]
    values: dict[str, Any] = json.loads(state.decode())
    for name, value in values.items():
        if sealing.is_sealed_field(value):
            values[name] = sealing.unseal_field(_need(key), value)
        elif type(value) is list and value and sealing.is_sealed_field(value[0]):
            values[name] = [sealing.unseal_field(_need(key), v) for v in value]
    return values


def _need(key: bytes | None) -> bytes:
    if key is None:
        raise sealing.SealError("a sealed field needs its data key")
    return key


def subject_of(notification: Notification) -> str:
    """The data key a recorded event is sealed under: its interaction's, or its customer's."""
    origin = str(notification.originator_id)
    if notification.topic in _ATTRIBUTION_TOPICS:
        return sealing.interaction_subject(origin)
    return sealing.customer_subject(origin)


def contract_record(notification: Notification, key: bytes | None = None
                    ) -> tuple[str, bytes, list[tuple[str, bytes]]] | None:
    """(key, envelope bytes, headers) of a recorded event on customers.v1; None: not published.

    The bytes are those of the validated contract model's ``serialise`` up to JSON spelling;
    with a data ``key`` they are sealed under the event's subject (:func:`subject_of`).
    """
    try:
        contract = _CONTRACTS[notification.topic]
    except KeyError:
        raise TypeError(f"no contract event for {notification.topic}") from None
    if contract is None:
        return None
    state = _state(contract, notification.state, key)
    originator = str(notification.originator_id)
    record_key, data = contract.data(originator, state)
    head = "".join((
        '{"specversion": "1.0", "id": ', quote(derived_event_id(originator, notification.originator_version)),
        ', "type": ', contract.type_json, ', "source": "', SOURCE, '", "time": ',
        quote(state["timestamp"]["_data_"]), ', "subject": ', quote(record_key),
        ', "datacontenttype": "application/json", "sequence": ', str(notification.id), ', "data": ',
        data, "}",
    ))
    value = head.encode()
    if key is not None:
        value = sealing.seal(key, subject_of(notification), value)
    return record_key, value, contract.header


# Published in the clear although the customer's key is gone: it carries ids only, and it is
# what makes every read model (and every rebuild) drop the customer.
PUBLIC = frozenset((get_topic(Customer.Erased),))  # type: ignore[attr-defined]
_ATTRIBUTION_TOPICS = frozenset((get_topic(Attribution.Attributed), get_topic(Attribution.Reattributed)))  # type: ignore[attr-defined]

