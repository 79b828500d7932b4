"""Canonical identifiers (phones, emails, handles) and the deterministic ids of events/ids.py."""

from __future__ import annotations

import uuid

import pytest

from events import ids as events_ids
from events.identifiers import (
    Identifier,
    identifiers_of,
    normalise_email,
    normalise_handle,
    normalise_phone,
    phone_identifier,
)
from events.ids import (
    KARTOTEKA_NS,
    customer_id_for,
    derived_event_id,
)
from tests.support.ids import SECRET, interaction_id

IRINA = "+79123456789"


@pytest.mark.parametrize(
    "spelling",
    [
        "8 912 345-67-89",
        "+7 (912) 345 67 89",
        "7-912-345-67-89",
        "9123456789",
        "89123456789",
        "+79123456789",
        "  8 (912) 345-67-89  ",
        "8.912.345.67.89",
    ],
)
def test_a_local_russian_spelling_normalises_to_e164(spelling: str) -> None:
    assert normalise_phone(spelling) == IRINA


@pytest.mark.parametrize(
    ("spelling", "e164"),
    [
        ("8 (800) 555-35-35", "+78005553535"),
        ("+7 495 123-45-67", "+74951234567"),
        ("+1 202 555 0143", "+12025550143"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_other_valid_numbers_normalise_to_e164(spelling: str, e164: str) -> None:
    assert normalise_phone(spelling) == e164


@pytest.mark.parametrize(
    "junk",
    ["не скажу", "abc", "12345", "+7 912 345 67 8", "8 912 345 67 89 00 11", "000", "+"],
)
def test_junk_and_short_numbers_do_not_normalise(junk: str) -> None:
    assert normalise_phone(junk) is None


@pytest.mark.parametrize("empty", ["", "   ", "\t\n"])
def test_an_empty_phone_normalises_to_none(empty: str) -> None:
    assert normalise_phone(empty) is None
    assert phone_identifier(empty) is None


def test_a_valid_phone_identifier_is_e164_and_valid() -> None:
    assert phone_identifier("8 912 345-67-89") == Identifier("phone", IRINA, valid=True)


@pytest.mark.parametrize(
    ("raw", "digits"),
    [("12-34-5", "12345"), ("+7 912 345 67 8", "7912345678"), ("доб. 000", "000")],
)
def test_an_invalid_phone_identifier_keeps_its_digits_marked_not_valid(
    raw: str, digits: str
) -> None:
    assert phone_identifier(raw) == Identifier("phone", digits, valid=False)


def test_a_phone_without_any_digit_gives_no_identifier() -> None:
    assert phone_identifier("не скажу") is None


def test_an_identifier_key_is_kind_and_value() -> None:
    assert Identifier("phone", IRINA).key == "phone:+79123456789"
    assert Identifier("email", "a@b.ru").key == "email:a@b.ru"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("irina@example.ru", "irina@example.ru"),
        ("  Irina.Petrova@Example.RU  ", "irina.petrova@example.ru"),
        ("Ирина Петрова <Irina@Example.RU>", "irina@example.ru"),
        ('"Петрова, Ирина" <I.Petrova@Mail.Ru>', "i.petrova@mail.ru"),
        ("<irina@example.ru>", "irina@example.ru"),
        ("Ирина@Почта.РФ", "ирина@почта.рф"),
        ("info@ПРИМЕР.РФ", "info@пример.рф"),
    ],
)
def test_an_email_is_trimmed_stripped_of_its_display_name_and_case_folded(
    raw: str, expected: str
) -> None:
    assert normalise_email(raw) == expected


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "   ",
        "irina",
        "irina at example.ru",
        "a@b",
        "@example.ru",
        "irina@",
        "a b@c.ru",
        "a@@b.ru",
        "<>",
    ],
)
def test_something_that_is_not_an_address_normalises_to_none(garbage: str) -> None:
    assert normalise_email(garbage) is None


@pytest.mark.parametrize("garbage", ["a@.ru", "a@b."])
def test_an_address_with_an_empty_domain_label_normalises_to_none(garbage: str) -> None:
    assert normalise_email(garbage) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("tg:@Irina", "tg:irina"),
        ("tg:irina", "tg:irina"),
        (" TG : @Irina ", "tg:irina"),
        ("Irina", "chat:irina"),
        ("@Irina", "chat:irina"),
        ("vk:Ирина_П", "vk:ирина_п"),
        ("wa:+79123456789", "wa:+79123456789"),
    ],
)
def test_a_handle_becomes_network_colon_name(raw: str, expected: str) -> None:
    assert normalise_handle(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "   ", "tg:", "tg:@", "1tg:irina", "my network:irina", ":irina"]
)
def test_a_handle_without_a_name_or_with_a_bad_network_normalises_to_none(raw: str) -> None:
    assert normalise_handle(raw) is None


def test_identifiers_come_phone_then_email_then_handle() -> None:
    found = identifiers_of("8 912 345-67-89", "Irina@Example.RU", "tg:@Irina")
    assert found == [
        Identifier("phone", IRINA),
        Identifier("email", "irina@example.ru"),
        Identifier("handle", "tg:irina"),
    ]


@pytest.mark.parametrize(
    ("phone", "email", "handle", "kinds"),
    [
        (None, None, None, []),
        ("", "", "", []),
        ("не скажу", "irina", "tg:", []),
        (None, "a@b.ru", "tg:x", ["email", "handle"]),
        ("12345", None, "tg:x", ["phone", "handle"]),
        ("junk", "a@b.ru", None, ["email"]),
    ],
)
def test_unusable_identifiers_are_left_out(
    phone: str | None, email: str | None, handle: str | None, kinds: list[str]
) -> None:
    assert [i.kind for i in identifiers_of(phone, email, handle)] == kinds


def test_an_interaction_id_is_the_same_for_a_retried_delivery() -> None:
    assert interaction_id("call", "cdr-1001") == interaction_id("call", "cdr-1001")
    assert uuid.UUID(interaction_id("call", "cdr-1001")).version == 8


def test_an_interaction_id_is_a_keyed_hmac_that_reveals_nothing_without_the_secret() -> None:
    # Not the uuid5 of the plain external id, which anyone could recompute from a phone and a time.
    assert interaction_id("call", "c-1") != str(uuid.uuid5(KARTOTEKA_NS, "interaction:call:c-1"))
    assert interaction_id("call", "c-1") != interaction_id("call", "c-1", b"another deployment's secret")
    assert interaction_id("call", "c-1") == events_ids.interaction_id("call", "c-1", SECRET)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("call", "1001"), ("call", "1002")),
        (("call", "1001"), ("sms", "1001")),
        (("email", "<a@b.ru>"), ("chat", "<a@b.ru>")),
        (("web_form", "x"), ("web_form", "X")),
    ],
)
def test_interaction_ids_differ_per_channel_and_external_id(
    first: tuple[str, str], second: tuple[str, str]
) -> None:
    assert interaction_id(*first) != interaction_id(*second)


def test_ids_of_many_distinct_deliveries_never_collide() -> None:
    channels = ["call", "email", "chat", "sms", "web_form"]
    ids = {interaction_id(c, f"ext-{n}") for c in channels for n in range(200)}
    assert len(ids) == len(channels) * 200


def test_customer_and_derived_ids_are_deterministic_and_distinct_from_their_origin() -> None:
    origin = interaction_id("call", "cdr-1001")
    assert customer_id_for(origin) == customer_id_for(origin)
    assert customer_id_for(origin) not in {
        origin,
        customer_id_for(interaction_id("call", "cdr-1002")),
    }
    assert derived_event_id(origin, 1) == derived_event_id(origin, 1)
    assert len({derived_event_id(origin, 1), derived_event_id(origin, 2), origin}) == 3
