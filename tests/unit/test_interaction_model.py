"""The canonical interaction (HTTP contract v1): what is accepted and what is refused, and why."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from events.identifiers import Identifier
from events.interaction import (
    MAX_BODY_CHARS,
    Channel,
    CustomerRef,
    Direction,
    Interaction,
)
from tests.support.interaction_items import error_locs, item

MSK = timezone(timedelta(hours=3))


@pytest.mark.parametrize("channel", ["call", "email", "chat", "sms", "web_form"])
def test_every_contract_channel_is_accepted(channel: str) -> None:
    assert Interaction.model_validate(item(channel=channel)).channel is Channel(channel)


@pytest.mark.parametrize("channel", ["fax", "CALL", "web-form", "", "телефон"])
def test_a_channel_outside_the_contract_is_refused(channel: str) -> None:
    with pytest.raises(ValidationError) as exc:
        Interaction.model_validate(item(channel=channel))
    assert error_locs(exc) == [("channel",)]


@pytest.mark.parametrize("direction", ["inbound", "outbound"])
def test_both_directions_are_accepted(direction: str) -> None:
    assert Interaction.model_validate(item(direction=direction)).direction is Direction(direction)


def test_a_direction_outside_the_contract_is_refused() -> None:
    with pytest.raises(ValidationError) as exc:
        Interaction.model_validate(item(direction="sideways"))
    assert error_locs(exc) == [("direction",)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T10:00:00+03:00", datetime(2024, 5, 1, 10, 0, tzinfo=MSK)),
        ("2024-05-01T07:00:00Z", datetime(2024, 5, 1, 7, 0, tzinfo=UTC)),
        ("2024-05-01t07:00:00z", datetime(2024, 5, 1, 7, 0, tzinfo=UTC)),
        ("2024-05-01 10:00:00+03:00", datetime(2024, 5, 1, 10, 0, tzinfo=MSK)),
        ("2024-05-01T10:00:00.250+03:00", datetime(2024, 5, 1, 10, 0, 0, 250_000, tzinfo=MSK)),
        (
            "2024-05-01T02:00:00-05:00",
            datetime(2024, 5, 1, 2, 0, tzinfo=timezone(timedelta(hours=-5))),
        ),
    ],
)
def test_rfc3339_times_with_an_offset_are_accepted(text: str, expected: datetime) -> None:
    occurred = Interaction.model_validate(item(occurred_at=text)).occurred_at
    assert occurred == expected
    assert occurred.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("2024-05-01T10:00:00", id="naive"),
        pytest.param("2024-05-01", id="date-only"),
        pytest.param(1714546800, id="unix-int"),
        pytest.param(1714546800.5, id="unix-float"),
        pytest.param("1714546800", id="unix-string"),
        pytest.param("2024-05-01T10:00:00+0300", id="offset-without-colon"),
        pytest.param("01.05.2024 10:00", id="russian-spelling"),
        pytest.param("2024-13-01T10:00:00Z", id="month-13"),
        pytest.param("2024-05-01T25:00:00Z", id="hour-25"),
        pytest.param("", id="empty"),
        pytest.param("2024-05-01T10:00:00+03:00\n", id="trailing-newline"),
        pytest.param(None, id="null"),
        pytest.param(datetime(2024, 5, 1, 10, 0), id="naive-datetime-object"),
    ],
)
def test_a_time_without_an_rfc3339_offset_is_refused(value: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        Interaction.model_validate(item(occurred_at=value))
    assert error_locs(exc) == [("occurred_at",)]


def test_an_aware_datetime_object_is_accepted_as_is() -> None:
    when = datetime(2024, 5, 1, 10, 0, tzinfo=MSK)
    assert Interaction.model_validate(item(occurred_at=when)).occurred_at == when


@pytest.mark.parametrize(
    ("customer", "first"),
    [
        ({"phone": "8 912 345-67-89"}, Identifier("phone", "+79123456789")),
        ({"email": "Irina@Example.RU"}, Identifier("email", "irina@example.ru")),
        ({"handle": "tg:@Irina"}, Identifier("handle", "tg:irina")),
        ({"phone": "12345"}, Identifier("phone", "12345", valid=False)),
        ({"phone": "мусор", "email": "a@b.ru"}, Identifier("email", "a@b.ru")),
    ],
)
def test_one_usable_identifier_is_enough(customer: dict[str, str], first: Identifier) -> None:
    interaction = Interaction.model_validate(item(customer=customer))
    assert interaction.primary_identifier() == first


@pytest.mark.parametrize(
    "customer",
    [
        pytest.param({}, id="empty"),
        pytest.param({"name": "Ирина Петрова"}, id="name-only"),
        pytest.param({"phone": "   ", "email": "  "}, id="blank"),
        pytest.param({"phone": "не скажу"}, id="phone-without-digits"),
        pytest.param({"email": "irina at example"}, id="email-garbage"),
        pytest.param({"handle": "tg:@"}, id="handle-without-name"),
    ],
)
def test_a_customer_without_a_usable_identifier_is_refused(customer: dict[str, str]) -> None:
    with pytest.raises(ValidationError) as exc:
        Interaction.model_validate(item(customer=customer))
    assert error_locs(exc) == [("customer",)]


def test_customer_ref_strips_whitespace_around_its_fields() -> None:
    ref = CustomerRef(phone="  +79123456789 ", name="  Ирина Петрова  ")
    assert (ref.phone, ref.name) == ("+79123456789", "Ирина Петрова")


def test_customer_ref_lists_identifiers_strongest_first() -> None:
    ref = CustomerRef(handle="tg:@Irina", email="Irina@Example.ru", phone="8 912 345-67-89")
    assert [i.kind for i in ref.identifiers()] == ["phone", "email", "handle"]


def test_an_unknown_top_level_field_is_refused() -> None:
    with pytest.raises(ValidationError) as exc:
        Interaction.model_validate(item(priority="high"))
    assert error_locs(exc) == [("priority",)]


def test_an_unknown_customer_field_is_refused() -> None:
    with pytest.raises(ValidationError) as exc:
        Interaction.model_validate(item(customer={"phone": "+79123456789", "fax": "+74951234567"}))
    assert error_locs(exc) == [("customer", "fax")]


@pytest.mark.parametrize(
    "field", ["channel", "external_id", "occurred_at", "direction", "customer"]
)
def test_every_required_field_is_required(field: str) -> None:
    raw = item()
    del raw[field]
    with pytest.raises(ValidationError) as exc:
        Interaction.model_validate(raw)
    assert error_locs(exc) == [(field,)]


LIMITED_TEXT: list[tuple[tuple[str, ...], int, Callable[[int], dict[str, Any]]]] = [
    (("external_id",), 256, lambda n: {"external_id": "ж" * n}),
    (("agent_id",), 128, lambda n: {"agent_id": "ж" * n}),
    (("subject",), 1000, lambda n: {"subject": "ж" * n}),
    (("body",), MAX_BODY_CHARS, lambda n: {"body": "ж" * n}),
    (("customer", "name"), 256, lambda n: {"customer": {"phone": "+79123456789", "name": "Я" * n}}),
    (("customer", "email"), 320, lambda n: {"customer": {"email": "a" * (n - 5) + "@b.ru"}}),
    (("customer", "handle"), 256, lambda n: {"customer": {"handle": "tg:" + "и" * (n - 3)}}),
    (("customer", "phone"), 64, lambda n: {"customer": {"phone": "7" * n}}),
]


@pytest.mark.parametrize(
    ("loc", "longest", "sized"), LIMITED_TEXT, ids=[".".join(t[0]) for t in LIMITED_TEXT]
)
def test_text_up_to_its_limit_is_accepted_and_one_more_character_is_refused(
    loc: tuple[str, ...], longest: int, sized: Callable[[int], dict[str, Any]]
) -> None:
    assert Interaction.model_validate(item(**sized(longest))).external_id
    with pytest.raises(ValidationError) as exc:
        Interaction.model_validate(item(**sized(longest + 1)))
    assert error_locs(exc) == [loc]


@pytest.mark.parametrize("field", ["external_id", "agent_id"])
def test_an_empty_id_is_refused(field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        Interaction.model_validate(item(**{field: ""}))
    assert error_locs(exc) == [(field,)]


def test_cyrillic_text_round_trips_through_json_unchanged() -> None:
    original = Interaction.model_validate(
        item(
            channel="email",
            customer={"email": "Ирина@Почта.РФ", "name": "Ирина Петрова"},
            subject="Жалоба на доставку",
            body="Здравствуйте! Заказ №123 не доставлен, ёлки-палки.",
            details={"тема": "доставка", "вложения": ["счёт.pdf"]},
        )
    )
    again = Interaction.model_validate_json(original.model_dump_json())
    assert again == original
    assert again.body == "Здравствуйте! Заказ №123 не доставлен, ёлки-палки."
    assert again.details == {"тема": "доставка", "вложения": ["счёт.pdf"]}
    assert again.primary_identifier() == Identifier("email", "ирина@почта.рф")


def test_an_interaction_is_frozen() -> None:
    interaction = Interaction.model_validate(item())
    with pytest.raises(ValidationError):
        interaction.body = "changed"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("0001-01-01T23:59:59+00:00", False),
        ("0001-01-02T00:00:00+00:00", True),
        ("0001-01-02T00:00:00+14:00", False),
        ("0001-12-31T23:59:59-14:00", True),
        ("0002-01-01T00:00:00+23:59", True),
        ("9998-12-31T23:59:59-23:59", True),
        ("9999-01-01T00:00:00+14:00", True),
        ("9999-12-30T00:00:00+00:00", True),
        ("9999-12-30T00:00:01+00:00", False),
        ("9999-12-29T23:00:00-14:00", False),
        ("9999-12-31T23:59:59-14:00", False),
    ],
)
def test_occurred_at_is_bounded_in_utc_on_both_ends(text: str, accepted: bool) -> None:
    if accepted:
        assert Interaction.model_validate(item(occurred_at=text)).occurred_at == datetime.fromisoformat(text)
        assert Interaction.model_validate_json(Interaction.model_validate(item(occurred_at=text))
                                               .model_dump_json()).occurred_at.isoformat() == text
    else:
        with pytest.raises(ValidationError, match="occurred_at must lie between"):
            Interaction.model_validate(item(occurred_at=text))
