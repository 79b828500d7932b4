"""Shortcuts of identifier normalisation and id derivation answer exactly what the general path answers.

The E.164 and plain-address shortcuts against phonenumbers and parseaddr, and events/ids.py's
SHA-1 ids against uuid.uuid5.
"""

from __future__ import annotations

import random
import re
import uuid

import phonenumbers
import pytest

from events.identifiers import (
    Identifier,
    identifiers_of,
    normalise_email,
    normalise_phone,
    parsed_email,
)
from events.ids import (
    KARTOTEKA_NS,
    customer_id_for,
    derived_event_id,
    split_target_id,
    uuid5_text,
)
from tests.support.ids import interaction_id

IRINA = "+79123456789"

# --- shortcuts must answer exactly what the general path answers ---------------------------


def _phone_the_long_way(text: str) -> str | None:
    try:
        parsed = phonenumbers.parse(text, "RU")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def test_the_e164_shortcut_builds_the_number_phonenumbers_parses_for_every_prefix() -> None:
    rng = random.Random(7)
    for prefix in range(1000, 10000):
        text = f"+7{prefix}{rng.randrange(10**6):06d}"
        built = phonenumbers.PhoneNumber(country_code=7, national_number=int(text[2:]))
        assert phonenumbers.parse(text, "RU") == built, text
        assert normalise_phone(text) == _phone_the_long_way(text), text


@pytest.mark.parametrize(
    "spelling",
    ["+70123456789", "+7912345678", "+791234567890", "+7 912 345 67 89", "+7٩١٢٣٤٥٦٧٨٩",
     "8 (012) 345-67-89", "+78005553535", "+77012345678", "+76012345678"],
)
def test_spellings_near_the_e164_shortcut_normalise_as_phonenumbers_says(spelling: str) -> None:
    digits = re.sub(r"\D", "", spelling)
    expected_text = "+7" + digits[1:] if not spelling.startswith("+") and len(digits) == 11 else spelling
    assert normalise_phone(spelling) == _phone_the_long_way(expected_text)


def test_the_plain_address_shortcut_agrees_with_parseaddr() -> None:
    rng = random.Random(11)
    local_chars, domain_chars = "abcXYZ019_%+-", "abZ09-"

    def word(chars: str, longest: int) -> str:
        return "".join(rng.choice(chars) for _ in range(rng.randint(1, longest)))

    for _ in range(20_000):
        local = ".".join(word(local_chars, 6) for _ in range(rng.randint(1, 3)))
        domain = ".".join(word(domain_chars, 5) for _ in range(rng.randint(2, 4)))
        raw = rng.choice(["", " ", "\t"]) + local + "@" + domain + rng.choice(["", " ", "\n"])
        assert normalise_email(raw) == parsed_email(raw), raw


@pytest.mark.parametrize(
    "raw",
    ["a..b@example.ru", ".a@example.ru", "a.@example.ru", "a@example..ru", "a@-x.ru",
     "A@B.RU", "a+tag@example.ru", "a%b@example.ru", "Ирина@Почта.РФ", "a@b", "a b@c.ru"],
)
def test_addresses_near_the_shortcut_normalise_as_parseaddr_says(raw: str) -> None:
    assert normalise_email(raw) == parsed_email(raw)


def test_identifiers_of_returns_a_fresh_list_from_its_cache() -> None:
    first = identifiers_of("8 912 345-67-89", "a@b.ru")
    first.append(Identifier("handle", "x"))
    assert identifiers_of("8 912 345-67-89", "a@b.ru") == [
        Identifier("phone", IRINA), Identifier("email", "a@b.ru")
    ]


@pytest.mark.parametrize(
    "name", ["", "interaction:call:c-1", "ё" * 300, "customer:" + "x" * 5000, "\U0001f600 \x00"]
)
def test_ids_are_uuid5_in_the_kartoteka_namespace(name: str) -> None:
    assert uuid5_text(name) == str(uuid.uuid5(KARTOTEKA_NS, name))


def test_every_id_helper_is_the_uuid5_it_always_was() -> None:
    assert customer_id_for("x") == str(uuid.uuid5(KARTOTEKA_NS, "customer:x"))
    assert derived_event_id("o", 3) == str(uuid.uuid5(KARTOTEKA_NS, "event:o:3"))
    assert split_target_id("s") == str(uuid.uuid5(KARTOTEKA_NS, "split:s"))


def test_random_names_give_the_same_id_as_uuid_uuid5() -> None:
    rng = random.Random(3)
    for _ in range(5_000):
        name = "".join(chr(rng.randint(32, 0xD7FF)) for _ in range(rng.randint(0, 40)))
        assert uuid5_text(name) == str(uuid.uuid5(KARTOTEKA_NS, name))


def test_a_name_that_is_not_valid_unicode_fails_like_uuid5() -> None:
    with pytest.raises(UnicodeEncodeError):
        uuid.uuid5(KARTOTEKA_NS, "\ud800")
    with pytest.raises(UnicodeEncodeError):
        uuid5_text("\ud800")


def test_an_interaction_id_is_the_one_stored_data_already_holds() -> None:
    # Fixed by data already on disk: a change here re-keys every stored interaction (the move
    # from uuid5 of the plain external id to the keyed HMAC did once, issue 16).
    assert interaction_id("call", "cdr-1001") == "d494016d-9d10-88a4-a58e-23bed2351227"
