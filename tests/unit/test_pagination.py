"""Opaque cursors: what the API issues decodes back; anything else is a 400 invalid_cursor."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from kartoteka.http import ApiError
from services.api.pagination import decode_cursor, encode_cursor

MSK = timezone(timedelta(hours=3))
TIMELINE = (datetime, int)


def cursor_of(text: str) -> str:
    """A well-formed base64 cursor around arbitrary JSON text, as a client could forge it."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def assert_invalid_cursor(cursor: str, shape: tuple[type, ...]) -> None:
    with pytest.raises(ApiError) as exc:
        decode_cursor(cursor, shape)
    assert (exc.value.status, exc.value.code) == (400, "invalid_cursor")


@pytest.mark.parametrize(
    ("parts", "shape"),
    [
        ((datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=MSK), 42), TIMELINE),
        ((datetime(2024, 5, 1, tzinfo=UTC), 0), TIMELINE),
        ((1_000_000,), (int,)),
        (("Петрова", 3), (str, int)),
    ],
)
def test_a_cursor_decodes_back_to_its_parts(
    parts: tuple[Any, ...], shape: tuple[type, ...]
) -> None:
    assert decode_cursor(encode_cursor(*parts), shape) == list(parts)


def test_a_decoded_time_keeps_its_offset() -> None:
    when = datetime(2024, 5, 1, 10, 0, tzinfo=MSK)
    decoded = decode_cursor(encode_cursor(when, 1), TIMELINE)[0]
    assert decoded.utcoffset() == timedelta(hours=3)


@pytest.mark.parametrize(
    "parts", [(1,), (22,), (333,), ("Ё", 4444), (datetime(2024, 5, 1, tzinfo=UTC), 5)]
)
def test_a_cursor_is_url_safe_without_padding(parts: tuple[Any, ...]) -> None:
    cursor = encode_cursor(*parts)
    assert not set(cursor) & set("=+/")
    assert cursor.isascii()


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("!!!", id="not-base64"),
        pytest.param("a", id="impossible-length"),
        pytest.param("", id="empty"),
        pytest.param("курсор", id="cyrillic"),
        pytest.param(cursor_of("not json"), id="base64-of-text"),
        pytest.param(base64.urlsafe_b64encode(b"\xff\xfe\xfa").decode(), id="base64-of-binary"),
    ],
)
def test_a_cursor_that_is_not_base64_json_is_invalid(cursor: str) -> None:
    assert_invalid_cursor(cursor, TIMELINE)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('{"occurred_at": "2024-05-01T10:00:00+03:00", "seq": 1}', id="object"),
        pytest.param('"2024-05-01T10:00:00+03:00"', id="string"),
        pytest.param("[]", id="no-parts"),
        pytest.param('["2024-05-01T10:00:00+03:00"]', id="too-few"),
        pytest.param('["2024-05-01T10:00:00+03:00", 1, 2]', id="too-many"),
        pytest.param("null", id="null"),
    ],
)
def test_a_cursor_of_the_wrong_shape_is_invalid(text: str) -> None:
    assert_invalid_cursor(cursor_of(text), TIMELINE)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('["yesterday", 1]', id="time-not-iso"),
        pytest.param("[1714546800, 1]", id="time-as-number"),
        pytest.param("[null, 1]", id="time-null"),
        pytest.param('["2024-05-01T10:00:00+03:00", "one"]', id="seq-not-a-number"),
        pytest.param('["2024-05-01T10:00:00+03:00", null]', id="seq-null"),
        pytest.param('["2024-05-01T10:00:00+03:00", [1]]', id="seq-list"),
        pytest.param('["2024-05-01T10:00:00+03:00", NaN]', id="seq-nan"),
    ],
)
def test_a_cursor_with_parts_of_the_wrong_type_is_invalid(text: str) -> None:
    assert_invalid_cursor(cursor_of(text), TIMELINE)


@pytest.mark.parametrize("number", ["Infinity", "-Infinity", "1e400"])
def test_a_cursor_with_an_infinite_number_is_invalid(number: str) -> None:
    assert_invalid_cursor(cursor_of(f'["2024-05-01T10:00:00+03:00", {number}]'), TIMELINE)


def test_a_cursor_of_deeply_nested_arrays_is_invalid() -> None:
    assert_invalid_cursor(cursor_of("[" * 1100 + "]" * 1100), TIMELINE)


@pytest.mark.parametrize("seq", ["1.7", "true"])
def test_a_cursor_with_a_non_integer_sequence_is_invalid(seq: str) -> None:
    assert_invalid_cursor(cursor_of(f'["2024-05-01T10:00:00+03:00", {seq}]'), TIMELINE)
