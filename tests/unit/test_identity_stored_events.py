"""The resolver's direct stored events equal what the Customer and Attribution aggregates record.

The reference below is the materialiser the resolver used before: aggregate methods, then
eventsourcing's mapper. Both run on the same commands against the same existing aggregates;
their stored events must match in topic, originator, version and state (the interaction
bytes may differ in JSON spelling, never in value), and replaying the direct ones through
the aggregates must rebuild the same aggregates.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import StoredEvent

from events.identifiers import Identifier
from events.identity import SplitRequested
from events.ids import customer_id_for, split_target_id
from events.interaction import Interaction
from services.projections.identity.decide import (
    Attribute,
    Command,
    Flag,
    Link,
    Merge,
    Reattribute,
    Refuse,
    Register,
    Split,
    Unlink,
)
from services.projections.identity.domain import Attribution, Customer
from services.projections.identity.worker import _Materialiser
from tests.support.ids import interaction_id

MSK = timezone(timedelta(hours=3))
AT = datetime(2024, 5, 1, 10, 0, 0, 250_000, tzinfo=MSK)
LATER = datetime(2024, 5, 2, 7, 30, tzinfo=UTC)


def _interaction(external_id: str, **details: Any) -> tuple[str, Interaction]:
    raw = {"channel": "call", "external_id": external_id, "occurred_at": AT.isoformat(),
           "direction": "inbound", "customer": {"phone": "8 912 345-67-89", "name": "Ирина \"Ира\" Петрова"},
           "agent_id": "emp-1", "subject": "Тема\tс табуляцией", "body": "строка\nвторая \\ \u2028",
           "details": details}
    return interaction_id("call", external_id), Interaction.model_validate(raw)


class _Reference:
    """The previous materialiser: aggregates loaded from a repository, saved by the mapper."""

    def __init__(self, app: Application[UUID]) -> None:
        self.app = app
        self.customers: dict[str, Customer] = {}
        self.attributions: dict[str, Attribution] = {}

    def customer(self, customer_id: str) -> Customer:
        if customer_id not in self.customers:
            self.customers[customer_id] = self.app.repository.get(UUID(customer_id))
        return self.customers[customer_id]

    def run(self, commands: list[Command]) -> list[StoredEvent]:  # noqa: C901 - mirrors the old code
        for c in commands:
            if isinstance(c, Register):
                self.customers[c.customer_id] = Customer(c.interaction_id, c.at, split_from=c.split_from)
            elif isinstance(c, Link):
                i = c.identifier
                self.customer(c.customer_id).link_identifier(i.kind, i.value, i.valid, c.interaction_id,
                                                             c.channel, c.at)
            elif isinstance(c, Attribute):
                self.attributions[c.interaction_id] = Attribution(
                    c.interaction_id, c.customer_id, c.interaction.model_dump(mode="json"))
            elif isinstance(c, Merge):
                self.customer(c.survivor_id).absorb(c.merged_id, c.interaction_id, list(c.keys), c.at)
                self.customer(c.merged_id).merge_into(c.survivor_id, c.interaction_id, list(c.keys), c.at)
            elif isinstance(c, Flag):
                self.customer(c.customer_id).flag_suspicious(list(c.others), c.key, c.interaction_id,
                                                             c.reason, c.at)
            elif isinstance(c, Unlink):
                self.customer(c.customer_id).unlink_identifier(c.key, c.command_id, c.at)
            elif isinstance(c, Split):
                cmd = c.command
                self.customer(c.source_id).split_off(c.target_id, list(c.keys), list(c.interaction_ids),
                                                     cmd.command_id, cmd.requested_by, cmd.reason, cmd.at)
                for key in c.keys:
                    kind, value = key.split(":", 1)
                    self.customer(c.target_id).link_identifier(kind, value, True, cmd.command_id, "split",
                                                               cmd.at)
            elif isinstance(c, Reattribute):
                attribution = self.attributions.get(c.interaction_id) or self.app.repository.get(
                    UUID(c.interaction_id))
                self.attributions[c.interaction_id] = attribution
                attribution.reattribute(c.from_customer_id, c.customer_id, c.command_id,
                                        attribution.original_customer_id)
        events = [e for a in [*self.customers.values(), *self.attributions.values()]
                  for e in a.collect_events()]
        return [self.app.mapper.to_stored_event(e) for e in events]


class _Log:
    """What the materialiser asks the identity log, answered from an in-memory application."""

    def __init__(self, app: Application[UUID]) -> None:
        self.app = app
        self.token = str  # lookups as tokens are the store's business, not the events'

    def versions(self, ids: list[str]) -> dict[str, int]:
        found = {}
        for i in ids:
            events = self.app.recorder.select_events(UUID(i))
            if events:
                found[i] = events[-1].originator_version
        return found

    def attributed_to(self, ids: list[str]) -> dict[str, str]:
        return {i: self.app.repository.get(UUID(i)).original_customer_id for i in ids}


def _existing() -> tuple[Application[UUID], dict[str, str]]:
    app: Application[UUID] = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo",
                                              "IS_SNAPSHOTTING_ENABLED": "n"})
    old_call, old = _interaction("old-1")
    first = Customer(old_call, AT)
    first.link_identifier("phone", "+79123456789", True, old_call, "call", AT)
    second = Customer(interaction_id("email", "old-2"), AT + timedelta(days=1))
    second.link_identifier("email", "irina@example.ru", True, interaction_id("email", "old-2"), "email", AT)
    attribution = Attribution(old_call, str(first.id), old.model_dump(mode="json"))
    app.save(first, second, attribution)
    return app, {"first": str(first.id), "second": str(second.id), "old_call": old_call}


def _commands(ids: dict[str, str]) -> list[Command]:
    first, second, old_call = ids["first"], ids["second"], ids["old_call"]
    new_call, new = _interaction("new-1", duration_s=61, score=0.1, big=10**20, tiny=1e-7, nested={"a": [1, None]})
    again_call, again = _interaction("new-2")
    newcomer = customer_id_for(new_call)
    split = SplitRequested(command_id="cmd-1", customer_id=first, keys=["email:irina@example.ru"],
                           requested_by="sup-1", reason=None, at=LATER)
    target = split_target_id("cmd-1")
    return [
        Register(newcomer, new_call, AT),
        Link(newcomer, Identifier("handle", "tg:ira"), new_call, "call", AT),
        Link(newcomer, Identifier("phone", "12", False), new_call, "call", AT, matchable=False),
        Attribute(newcomer, new_call, new, ("handle:tg:ira",)),
        Link(first, Identifier("handle", "tg:irina"), again_call, "chat", LATER),
        Merge(first, second, again_call, ("phone:+79123456789", "email:irina@example.ru"), LATER),
        Flag(first, (newcomer,), "handle:tg:ira", again_call, "guarded", LATER),
        Flag(newcomer, (first,), "handle:tg:ira", again_call, "guarded", LATER),
        Attribute(first, again_call, again, ("phone:+79123456789",)),
        Register(target, "cmd-1", LATER, split_from=first),
        Unlink(first, "email:irina@example.ru", "cmd-1", LATER),
        Split(first, target, ("email:irina@example.ru",), (again_call, old_call), split),
        Reattribute(again_call, first, target, "cmd-1"),
        Reattribute(old_call, first, target, "cmd-1"),
        Refuse("cmd-2", "not held by one customer"),
    ]


def _state(event: StoredEvent) -> dict[str, Any]:
    state = json.loads(event.state)
    state.pop("timestamp")
    return state


def test_direct_stored_events_equal_the_aggregates_own() -> None:
    app, ids = _existing()
    commands = _commands(ids)
    expected = _Reference(app).run(commands)
    actual, _writes = _Materialiser(_Log(app)).run(commands)  # type: ignore[arg-type]
    assert [(str(e.originator_id), e.originator_version, e.topic) for e in actual] == [
        (str(e.originator_id), e.originator_version, e.topic) for e in expected]
    assert [_state(e) for e in actual] == [_state(e) for e in expected]
    for mine, theirs in zip(actual, expected, strict=True):
        if not mine.topic.endswith("Attributed"):  # the interaction's JSON may be spelt differently
            stamp = json.loads(mine.state)["timestamp"]["_data_"]
            reference = json.loads(theirs.state)["timestamp"]["_data_"]
            assert mine.state == theirs.state.replace(reference.encode(), stamp.encode())


def test_direct_stored_events_replay_into_the_same_aggregates() -> None:
    app, ids = _existing()
    commands = _commands(ids)
    reference = _Reference(app)
    reference.run(commands)
    actual, _writes = _Materialiser(_Log(app)).run(commands)  # type: ignore[arg-type]
    replayed: dict[str, Any] = {}
    for stored in actual:
        originator = str(stored.originator_id)
        event = app.mapper.to_domain_event(
            StoredEvent(UUID(originator), stored.originator_version, stored.topic, stored.state))
        if stored.originator_version == 1:
            replayed[originator] = event.mutate(None)  # type: ignore[attr-defined]
        else:
            aggregate = replayed.get(originator) or app.repository.get(UUID(originator))
            replayed[originator] = event.mutate(aggregate)  # type: ignore[attr-defined]
    for originator, aggregate in replayed.items():
        expected = reference.customers.get(originator) or reference.attributions[originator]
        mine, theirs = dict(vars(aggregate)), dict(vars(expected))
        for moment in ("_created_on", "_modified_on", "_pending_events"):
            mine.pop(moment, None)
            theirs.pop(moment, None)
        assert mine == theirs, originator


def test_an_attribution_decoded_by_the_library_holds_the_interaction_as_validated() -> None:
    app, ids = _existing()
    call, interaction = _interaction("new-9", ratio=0.5, items=["a", {"b": True}])
    actual, _ = _Materialiser(_Log(app)).run([Attribute(ids["first"], call, interaction, ())])  # type: ignore[arg-type]
    [stored] = actual
    event = app.mapper.to_domain_event(StoredEvent(UUID(call), 1, stored.topic, stored.state))
    assert Interaction.model_validate(event.interaction) == interaction  # type: ignore[attr-defined]
