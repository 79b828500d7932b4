"""Identity decisions: which customer an interaction belongs to, and what the graph learns from it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from events.identifiers import Identifier
from events.ids import customer_id_for
from events.interaction import Interaction
from services.projections.identity.decide import (
    Attribute,
    Link,
    Merge,
    Register,
    Remember,
    Snapshot,
    decide,
)
from services.projections.identity.guards import Traits
from tests.support.ids import interaction_id

MSK = timezone(timedelta(hours=3))
AT = datetime(2024, 5, 1, 10, 0, tzinfo=MSK)
PHONE = Identifier("phone", "+79123456789")
EMAIL = Identifier("email", "irina@example.ru")
HANDLE = Identifier("handle", "tg:irina")


def received(external_id: str, channel: str = "call", **customer: str) -> tuple[str, Interaction]:
    raw: dict[str, Any] = {
        "channel": channel,
        "external_id": external_id,
        "occurred_at": AT.isoformat(),
        "direction": "inbound",
        "customer": customer,
    }
    return interaction_id(channel, external_id), Interaction.model_validate(raw)


def summary(commands: list[Any]) -> list[tuple[str, ...]]:
    """Commands as comparable tuples: (kind, customer, identifier key / interaction id / merged id)."""
    out: list[tuple[str, ...]] = []
    for c in commands:
        if isinstance(c, Register):
            out.append(("register", c.customer_id, c.interaction_id))
        elif isinstance(c, Link):
            out.append(("link", c.customer_id, c.identifier.key))
        elif isinstance(c, Attribute):
            out.append(("attribute", c.customer_id, c.interaction_id))
        elif isinstance(c, Merge):
            out.append(("merge", c.survivor_id, c.merged_id))
        else:
            out.append((type(c).__name__.lower(),))
    return out


def test_a_new_customer_is_registered_with_a_deterministic_id_and_every_identifier_linked() -> None:
    iid, interaction = received(
        "cdr-1", phone="8 912 345-67-89", email="Irina@Example.RU", handle="tg:@Irina", name="Ирина"
    )
    commands = decide([(iid, interaction)], Snapshot())
    new = customer_id_for(iid)
    assert summary(commands) == [
        ("register", new, iid),
        ("link", new, PHONE.key),
        ("link", new, EMAIL.key),
        ("link", new, HANDLE.key),
        ("remember",),
        ("attribute", new, iid),
    ]
    assert commands[0] == Register(new, iid, AT)
    assert commands[-2] == Remember(new, Traits(None, "irina", None))
    assert commands[1] == Link(new, PHONE, iid, "call", AT)
    assert commands[-1] == Attribute(new, iid, interaction, (PHONE.key, EMAIL.key, HANDLE.key))


def test_deciding_the_same_input_on_the_same_graph_gives_the_same_commands() -> None:
    item = received("cdr-1", phone="+79123456789")
    assert decide([item], Snapshot()) == decide([item], Snapshot())


def test_another_spelling_of_a_known_phone_goes_to_the_same_customer_and_links_the_new_email() -> (
    None
):
    known = "customer-irina"
    iid, interaction = received(
        "mail-2", channel="email", phone="8 (912) 345-67-89", email="Irina@Example.RU"
    )
    commands = decide([(iid, interaction)], Snapshot(owners={PHONE.key: known}))
    assert summary(commands) == [("link", known, EMAIL.key), ("attribute", known, iid)]
    link = commands[0]
    assert isinstance(link, Link) and link.channel == "email"


def test_an_interaction_already_attributed_produces_nothing() -> None:
    iid, interaction = received("cdr-1", phone="+79123456789")
    snapshot = Snapshot(owners={PHONE.key: "customer-irina"}, attributed={iid})
    assert decide([(iid, interaction)], snapshot) == []


def test_an_interaction_repeated_within_a_batch_is_decided_once() -> None:
    first = received("cdr-1", phone="+79123456789")
    repeat = received("cdr-1", phone="+79123456789")
    commands = decide([first, repeat, first], Snapshot())
    assert [c.interaction_id for c in commands if isinstance(c, Attribute)] == [first[0]]
    assert sum(isinstance(c, Register) for c in commands) == 1


def test_a_later_item_in_a_batch_sees_the_links_an_earlier_item_made() -> None:
    by_phone = received("cdr-1", phone="+79123456789", email="irina@example.ru")
    by_email = received("mail-2", channel="email", email="IRINA@example.ru", handle="tg:@Irina")
    commands = decide([by_phone, by_email], Snapshot())
    irina = customer_id_for(by_phone[0])
    assert summary(commands) == [
        ("register", irina, by_phone[0]),
        ("link", irina, PHONE.key),
        ("link", irina, EMAIL.key),
        ("attribute", irina, by_phone[0]),
        ("link", irina, HANDLE.key),
        ("attribute", irina, by_email[0]),
    ]


def test_strangers_in_one_batch_become_two_customers() -> None:
    irina = received("cdr-1", phone="+79123456789")
    oleg = received("cdr-2", phone="+79161234567")
    registered = [
        c.customer_id for c in decide([irina, oleg], Snapshot()) if isinstance(c, Register)
    ]
    assert registered == [customer_id_for(irina[0]), customer_id_for(oleg[0])]


def test_identifiers_of_two_customers_attribute_to_the_phone_owner_without_relinking_the_email() -> (
    None
):
    # The phone owner is the older customer here, so it survives the merge the interaction proves.
    iid, interaction = received(
        "cdr-3", phone="+79123456789", email="irina@example.ru", handle="tg:irina"
    )
    snapshot = Snapshot(
        owners={PHONE.key: "customer-by-phone", EMAIL.key: "customer-by-email"},
        registered={
            "customer-by-phone": datetime(2023, 1, 1, tzinfo=UTC),
            "customer-by-email": datetime(2023, 6, 1, tzinfo=UTC),
        },
    )
    commands = decide([(iid, interaction)], snapshot)
    assert ("attribute", "customer-by-phone", iid) in summary(commands)
    assert not [c for c in commands if isinstance(c, Link) and c.identifier == EMAIL]
    assert not [
        c for c in commands if isinstance(c, Attribute) and c.customer_id == "customer-by-email"
    ]
    assert [c for c in summary(commands) if c[0] == "merge"] == [
        ("merge", "customer-by-phone", "customer-by-email")
    ]


def test_an_invalid_phone_is_linked_as_its_digits_but_never_used_to_match() -> None:
    first = received("cdr-1", phone="12-34-5")
    again = received("cdr-2", phone="12345")
    commands = decide([first, again], Snapshot())
    links = [c for c in commands if isinstance(c, Link)]
    assert [(c.identifier, c.matchable) for c in links] == [
        (Identifier("phone", "12345", valid=False), False)
    ] * 2
    owners = [c.customer_id for c in commands if isinstance(c, Attribute)]
    assert owners == [customer_id_for(first[0]), customer_id_for(again[0])]
