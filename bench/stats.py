"""Small statistics helpers: percentiles, rates, per-second series."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Sample:
    """One request as the load generator saw it (epoch seconds)."""

    started: float
    ended: float
    name: str
    ok: bool
    items: int

    @property
    def ms(self) -> float:
        return (self.ended - self.started) * 1000


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..100) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return round(ordered[rank - 1], 3)


def summary(values: Sequence[float]) -> dict[str, float | int | None]:
    """Count, p50, p95, p99, max (milliseconds in, milliseconds out)."""
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": round(max(values), 3) if values else None,
    }


def per_second(points: Iterable[tuple[float, int]], origin: float) -> list[tuple[int, int]]:
    """(second since origin, items) buckets from (time, items) points."""
    buckets: dict[int, int] = {}
    for at, items in points:
        second = int(at - origin)
        buckets[second] = buckets.get(second, 0) + items
    return sorted(buckets.items())


def ratio(value: float | None, baseline: float | None) -> float | None:
    if value is None or not baseline:
        return None
    return round(value / baseline, 3)
