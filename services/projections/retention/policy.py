"""Pure: which interactions retention may remove, as (channel, cutoff) pairs."""

from __future__ import annotations

from datetime import datetime, timedelta


def cutoffs(days_by_channel: dict[str, int], now: datetime) -> list[tuple[str, datetime]]:
    """Per channel with a limit, the instant before which its interactions have expired."""
    return sorted((channel, now - timedelta(days=days)) for channel, days in days_by_channel.items())
