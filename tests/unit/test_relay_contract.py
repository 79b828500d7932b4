"""The relay's direct contract bytes equal the validated models' (``translate`` + ``serialise``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent
from pydantic import BaseModel

from events import catalog as _catalog  # noqa: F401  (registers the event types)
from events.catalog import CustomerRegistered, IdentifierLinked, InteractionAttributed
from events.envelope import decode, serialise, type_of
from events.identity import (
    CustomerMerged,
    CustomerSplit,
    IdentifierUnlinked,
    InteractionReattributed,
    SuspiciousLinkRecorded,
)
from events.ids import derived_event_id
from events.interaction import Interaction
from services.projections.identity.customer_records import SOURCE, contract_record
from services.projections.identity.decide import Attribute
from services.projections.identity.domain import Attribution, Customer
from services.projections.identity.worker import _Materialiser
from tests.unit.test_identity_stored_events import (
    _commands,
    _existing,
    _interaction,
    _Log,
    _Reference,
)


def _notifications(events: list[StoredEvent], first_id: int) -> list[Notification]:
    return [Notification(id=first_id + n, originator_id=UUID(str(e.originator_id)),
                         originator_version=e.originator_version, topic=e.topic, state=e.state)
            for n, e in enumerate(events)]


def translate(event: object) -> BaseModel | None:
    """An identity domain event as the contract event published on customers.v1 (None: not published).

    The reference mapping, built and validated model by model; the relay publishes
    :func:`contract_record`'s bytes, which tests hold equal to it.
    """
    cid = str(getattr(event, "originator_id", ""))
    if isinstance(event, Customer.Registered):  # type: ignore[attr-defined]
        return CustomerRegistered(customer_id=cid, first_interaction_id=event.first_interaction_id,
                                  at=event.at)
    if isinstance(event, Customer.IdentifierLinked):  # type: ignore[attr-defined]
        return IdentifierLinked(customer_id=cid, kind=event.kind, value=event.value, valid=event.valid,
                                interaction_id=event.interaction_id, channel=event.channel, at=event.at)
    if isinstance(event, Customer.IdentifierUnlinked):  # type: ignore[attr-defined]
        return IdentifierUnlinked(customer_id=cid, key=event.key, command_id=event.command_id, at=event.at)
    if isinstance(event, Customer.MergedInto):  # type: ignore[attr-defined]
        return CustomerMerged(survivor_id=event.survivor_id, merged_id=cid,
                              interaction_id=event.interaction_id, keys=event.keys, at=event.at)
    if isinstance(event, Customer.SplitOff):  # type: ignore[attr-defined]
        return CustomerSplit(source_id=cid, target_id=event.target_id, keys=event.keys,
                             interaction_ids=event.interaction_ids, command_id=event.command_id,
                             requested_by=event.requested_by, reason=event.reason, at=event.at)
    if isinstance(event, Customer.SuspiciousLinkFlagged):  # type: ignore[attr-defined]
        return SuspiciousLinkRecorded(customer_id=cid, other_customer_ids=event.others, key=event.key,
                                      interaction_id=event.interaction_id, reason=event.reason,
                                      at=event.at)
    if isinstance(event, Attribution.Attributed):  # type: ignore[attr-defined]
        return InteractionAttributed(customer_id=event.customer_id, interaction_id=event.interaction_id,
                                     interaction=Interaction.model_validate(event.interaction))
    if isinstance(event, Attribution.Reattributed):  # type: ignore[attr-defined]
        return InteractionReattributed(interaction_id=cid, from_customer_id=event.from_customer_id,
                                       customer_id=event.customer_id, command_id=event.command_id,
                                       original_customer_id=event.original_customer_id)
    if isinstance(event, Customer.Absorbed):  # type: ignore[attr-defined]
        return None  # the merged side's event carries the merge
    raise TypeError(f"no contract event for {type(event).__name__}")


def _key_of(contract: BaseModel) -> str:
    """Events about one customer share its key, so they stay in order on customers.v1."""
    if isinstance(contract, CustomerMerged):
        return contract.merged_id  # after every earlier event of the merged customer
    if isinstance(contract, CustomerSplit):
        return contract.source_id
    if isinstance(contract, InteractionReattributed):
        return contract.original_customer_id  # after the interaction's attribution
    return str(contract.customer_id)  # type: ignore[attr-defined]


def _reference(app, notification: Notification) -> tuple[str, bytes, list[tuple[str, bytes]]] | None:
    """What the relay published before: the validated contract model, serialised."""
    event = app.mapper.to_domain_event(notification)
    contract = translate(event)
    if contract is None:
        return None
    key = _key_of(contract)
    value = serialise(contract, id=derived_event_id(str(notification.originator_id), notification.originator_version),
                      source=SOURCE, time=event.timestamp, subject=key, sequence=notification.id)
    return key, value, [("event-type", type_of(contract).encode())]


def test_every_kind_of_identity_event_is_published_as_its_validated_contract_would_be() -> None:
    app, ids = _existing()
    commands = _commands(ids)
    recorded = [*_Reference(app).run(commands), *_Materialiser(_Log(app)).run(commands)[0]]  # type: ignore[arg-type]
    kinds = set()
    for notification in _notifications(recorded, 41):
        expected = _reference(app, notification)
        actual = contract_record(notification)
        kinds.add(notification.topic.rsplit(".", 1)[-1])
        if expected is None:
            assert actual is None
            continue
        assert actual is not None
        assert actual[0] == expected[0]  # the key, hence the partition and the order
        assert actual[2] == expected[2]
        assert json.loads(actual[1]) == json.loads(expected[1])  # same values, datetimes spelt alike
        assert decode(actual[1]) == decode(expected[1])
    assert kinds == {"Registered", "IdentifierLinked", "Attributed", "Absorbed", "MergedInto",
                     "SuspiciousLinkFlagged", "IdentifierUnlinked", "SplitOff", "Reattributed"}


def test_the_envelope_head_is_spelt_exactly_as_serialise_spells_it() -> None:
    app, ids = _existing()
    call, interaction = _interaction("head-1")
    [stored] = _Materialiser(_Log(app)).run([Attribute(ids["first"], call, interaction, ())])[0]  # type: ignore[arg-type]
    [notification] = _notifications([stored], 7)
    actual = contract_record(notification)
    expected = _reference(app, notification)
    assert actual is not None and expected is not None
    head = actual[1].split(b', "data": ', 1)[0]
    assert head == expected[1].split(b', "data": ', 1)[0]


def test_details_that_look_like_the_librarys_type_tags_are_published_as_sent() -> None:
    # The library's JSON decoder turns {"_type_", "_data_"} pairs into objects (or fails on an
    # unknown name); a channel's details are data, and must reach customers.v1 unchanged.
    app, ids = _existing()
    details = {"x": {"_type_": "no_such_type", "_data_": 1}, "y": {"_type_": "uuid_hex", "_data_": "00" * 16}}
    call, interaction = _interaction("tags-1", **details)
    [stored] = _Materialiser(_Log(app)).run([Attribute(ids["first"], call, interaction, ())])[0]  # type: ignore[arg-type]
    [notification] = _notifications([stored], 1)
    record = contract_record(notification)
    assert record is not None
    _envelope, payload = decode(record[1])
    assert isinstance(payload, InteractionAttributed)
    assert payload.interaction == interaction
    assert payload.interaction.details == details


def test_a_utc_time_is_spelt_with_z_like_pydantic() -> None:
    app, _ids = _existing()
    stamp = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    from services.projections.identity.domain import Customer

    customer = Customer("i-1", stamp)
    [event] = customer.collect_events()
    stored = app.mapper.to_stored_event(event)
    [notification] = _notifications([stored], 3)
    record = contract_record(notification)
    assert record is not None
    assert json.loads(record[1])["data"]["at"] == "2026-01-02T03:04:05Z"
