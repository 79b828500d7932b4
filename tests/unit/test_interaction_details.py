"""An interaction's free ``details``: kept as given, bounded in depth and in UTF-8 bytes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from events.interaction import MAX_DETAILS_BYTES, MAX_DETAILS_DEPTH, Interaction
from tests.support.interaction_items import error_locs, item, nested


def test_details_as_deep_as_the_limit_are_accepted() -> None:
    details = nested(MAX_DETAILS_DEPTH)
    assert Interaction.model_validate(item(details=details)).details == details


@pytest.mark.parametrize(
    "details",
    [
        pytest.param(nested(MAX_DETAILS_DEPTH + 1), id="dicts"),
        pytest.param({"k": [[[[[[[["дно"]]]]]]]]}, id="lists"),
        pytest.param({"k": [{"k": [{"k": [{"k": [{"k": 1}]}]}]}]}, id="mixed"),
    ],
)
def test_details_nested_deeper_than_the_limit_are_refused(details: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as exc:
        Interaction.model_validate(item(details=details))
    assert error_locs(exc) == [("details",)]
    assert "deeper" in str(exc.value)


def test_details_size_is_counted_in_utf8_bytes_not_characters() -> None:
    # 33 000 Cyrillic characters are 66 000 bytes in UTF-8: over the limit.
    cyrillic = "я" * 33_000
    latin = "z" * 33_000
    assert len(cyrillic) * 2 > MAX_DETAILS_BYTES > len(cyrillic)
    assert Interaction.model_validate(item(details={"note": latin})).details == {"note": latin}
    with pytest.raises(ValidationError) as exc:
        Interaction.model_validate(item(details={"note": cyrillic}))
    assert error_locs(exc) == [("details",)]
    assert "exceed" in str(exc.value)


def test_details_with_a_value_json_cannot_hold_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        Interaction.model_validate(item(details={"sent": datetime(2024, 5, 1, tzinfo=UTC)}))


@pytest.mark.parametrize(
    "details",
    [{}, {"a": 1}, {"a": [1, {"b": 2}]}, {"a": {"b": None}}, {"x": "ё" * 10, "y": 1.5, "z": True}],
)
def test_details_are_kept_as_given(details: dict[str, Any]) -> None:
    assert Interaction.model_validate(item(details=details)).details == details


def test_details_exactly_at_the_byte_limit_pass_and_one_byte_more_does_not() -> None:
    overhead = len(json.dumps({"k": ""}, ensure_ascii=False).encode())
    room = MAX_DETAILS_BYTES - overhead
    at_limit = {"k": "я" * (room // 2) + "a" * (room % 2)}
    assert len(json.dumps(at_limit, ensure_ascii=False).encode()) == MAX_DETAILS_BYTES
    Interaction.model_validate(item(details=at_limit))
    with pytest.raises(ValidationError, match="details exceed"):
        Interaction.model_validate(item(details={"k": at_limit["k"] + "a"}))


def test_details_built_in_python_with_a_cycle_are_refused_not_a_crash() -> None:
    looped: dict[str, Any] = {"a": []}
    looped["a"].append(looped)
    with pytest.raises(ValidationError, match="nest deeper"):
        Interaction.model_validate(item(details=looped))
