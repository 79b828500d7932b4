"""The relay's direct contract bytes equal the validated models' (``translate`` + ``serialise``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent

from events import catalog as _catalog  # noqa: F401  (registers the event types)
from events.catalog import InteractionAttributed
from events.envelope import decode, serialise, type_of
from events.ids import derived_event_id
from services.projections.identity.decide import Attribute
from services.projections.identity.relay import SOURCE, _key_of, contract_record, translate
from services.projections.identity.worker import _Materialiser
from tests.unit.test_identity_stored import _commands, _existing, _interaction, _Log, _Reference


def _notifications(events: list[StoredEvent], first_id: int) -> list[Notification]:
    return [Notification(id=first_id + n, originator_id=UUID(str(e.originator_id)),
                         originator_version=e.originator_version, topic=e.topic, state=e.state)
            for n, e in enumerate(events)]


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
