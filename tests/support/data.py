"""Test data: unique per test, realistic (Russian names, +7 numbers)."""

from __future__ import annotations

import itertools
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

_counter = itertools.count(1)


def unique_phone() -> str:
    """A valid Russian mobile number in a local spelling, different on every call."""
    n = random.randint(0, 9_999_999)
    return f"8 (916) {n // 10000:03d}-{(n // 100) % 100:02d}-{n % 100:02d}"


def interaction(**overrides: Any) -> dict[str, Any]:
    step = next(_counter)
    base: dict[str, Any] = {
        "channel": "call",
        "external_id": f"ext-{uuid.uuid4().hex}",
        "occurred_at": (
            datetime(2026, 11, 1, 9, 0, tzinfo=UTC) + timedelta(minutes=step)
        ).isoformat(),
        "direction": "inbound",
        "customer": {"phone": unique_phone(), "name": "Ирина Петрова"},
        "agent_id": "emp-42",
        "details": {"duration_s": 60},
    }
    base.update(overrides)
    return base
