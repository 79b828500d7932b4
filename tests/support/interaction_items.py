"""Interaction bodies for the contract's validation tests, and where pydantic says they failed."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError


def item(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "channel": "call",
        "external_id": "cdr-1001",
        "occurred_at": "2024-05-01T10:00:00+03:00",
        "direction": "inbound",
        "customer": {"phone": "+7 912 345-67-89", "name": "Ирина Петрова"},
    }
    base.update(overrides)
    return base


def nested(levels: int) -> dict[str, Any]:
    """A details dict whose innermost dict sits ``levels`` levels deep."""
    value: Any = "дно"
    for _ in range(levels):
        value = {"k": value}
    return value


def error_locs(exc: pytest.ExceptionInfo[ValidationError]) -> list[tuple[Any, ...]]:
    return [tuple(err["loc"]) for err in exc.value.errors()]
