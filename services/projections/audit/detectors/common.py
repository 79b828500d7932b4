"""Helpers shared by the detectors: ordering, local days, baselines, grading, evidence."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from services.projections.audit.detectors.config import DetectorConfig
from services.projections.audit.detectors.model import (
    SEVERITIES,
    Access,
    Alert,
    EmployeeContext,
    Kind,
    Severity,
)

PeerCounts = Mapping[str, Mapping[date, int]]
"""Peer employee id -> distinct customers viewed per local day (see daily_distinct_counts)."""

SAMPLE_SIZE = 10


class Ordered(list[Access]):
    """Accesses already in ``in_order``'s order (a stable sort by the same key)."""


def ordered(accesses: Iterable[Access]) -> Ordered:
    """Sort once for every detector: each asks ``in_order`` of the same stream."""
    return Ordered(sorted(accesses, key=_order))


def in_order(accesses: Iterable[Access], actions: Collection[str] | None = None) -> list[Access]:
    """Accesses (optionally of some actions only) in time order, offsets breaking ties."""
    kept = [a for a in accesses if actions is None or a.action in actions]
    # Filtering a stably sorted list keeps the order a stable sort of the subset would give.
    return kept if isinstance(accesses, Ordered) else sorted(kept, key=_order)


def _order(access: Access) -> tuple[datetime, int]:
    return access.at, -1 if access.offset is None else access.offset


@dataclass
class Bucket:
    """Accesses of one window and the customers they touched, in first-seen order.

    A dict rather than a set keeps the order, so evidence samples are the same on every run.
    """

    accesses: list[Access] = field(default_factory=list)
    customers: dict[str, None] = field(default_factory=dict)

    def add(self, access: Access, customer_ids: Iterable[str]) -> None:
        self.accesses.append(access)
        self.customers.update(dict.fromkeys(customer_ids))


def _everyone(_: str) -> bool:
    return True


@lru_cache(maxsize=1 << 17)
def local_date(at: datetime, zone: ZoneInfo) -> date:
    """The local calendar day of ``at``; remembered, as every detector asks it of every access
    and a worker asks it again of the same history at each evaluation."""
    return at.astimezone(zone).date()


def by_local_day(
    accesses: Iterable[Access], zone: ZoneInfo, keep: Callable[[str], bool] = _everyone
) -> dict[date, Bucket]:
    """Group accesses by the employee's local calendar day, keeping customers ``keep`` allows."""
    days: dict[date, Bucket] = {}
    for access in accesses:
        bucket = days.get(day := local_date(access.at, zone))
        if bucket is None:
            bucket = days[day] = Bucket()
        bucket.accesses.append(access)
        ids = access.customer_ids
        bucket.customers.update(dict.fromkeys(ids if keep is _everyone else filter(keep, ids)))
    return dict(sorted(days.items()))


def day_window(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Local midnight to the next local midnight, in UTC."""
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def daily_distinct_counts(
    accesses: Iterable[Access], ctx: EmployeeContext, cfg: DetectorConfig
) -> dict[date, int]:
    """Distinct customers viewed per local day: feed one of these per peer to ``peers``."""
    days = by_local_day(in_order(accesses, cfg.view_actions), ctx.zone)
    return {day: len(bucket.customers) for day, bucket in days.items()}


@dataclass(frozen=True)
class Baseline:
    """Typical daily count from past days: median and MAD over ``days`` observations."""

    median: float
    mad: float
    days: int

    @classmethod
    def of(cls, counts: Collection[int]) -> Baseline:
        median = statistics.median(counts)
        mad = statistics.median(abs(c - median) for c in counts)
        return cls(float(median), float(mad), len(counts))

    def as_evidence(self) -> dict[str, Any]:
        return {"median": self.median, "mad": self.mad, "days": self.days}


def trailing(counts: Mapping[date, int], day: date, days: int) -> list[int]:
    """Counts of the active days in the ``days`` calendar days before ``day``.

    Days off are absent rather than zero, so a four-day week does not halve the baseline.
    """
    return [c for d, c in counts.items() if day - timedelta(days=days) <= d < day]


def grade(observed: float, threshold: float, floor: Severity = "low") -> tuple[Severity, float]:
    """Severity and a 0..1 score from how far ``observed`` is above ``threshold``."""
    ratio = observed / max(threshold, 1.0)
    score = min(1.0, max(0.0, 1.0 - 0.5 / ratio)) if ratio > 0 else 0.0
    level = 3 if ratio >= 4 else 2 if ratio >= 2 else 1 if ratio >= 1.25 else 0
    return SEVERITIES[max(level, SEVERITIES.index(floor))], round(score, 4)


def _escalate(severity: Severity, ctx: EmployeeContext, end: datetime) -> Severity:
    """Departing-employee policy: anything after notice is one level more serious."""
    departing = ctx.status != "active" and ctx.notice_given_at is not None
    if not departing or ctx.notice_given_at is None or end <= ctx.notice_given_at:
        return severity
    return SEVERITIES[min(SEVERITIES.index(severity) + 1, len(SEVERITIES) - 1)]


def make_alert(
    ctx: EmployeeContext,
    kind: Kind,
    observed: float,
    threshold: float,
    window: tuple[datetime, datetime],
    evidence: dict[str, Any],
    floor: Severity = "low",
    escalate: bool = True,
) -> Alert:
    """An alert for ``ctx``'s employee, graded by ``observed`` against ``threshold``.

    ``escalate`` applies the departing-employee policy (one level up after notice).
    """
    severity, score = grade(observed, threshold, floor)
    start, end = (moment.astimezone(UTC) for moment in window)
    evidence = {"threshold": threshold, **evidence}  # a detector may give a richer one
    if escalate:
        severity = _escalate(severity, ctx, end)
    return Alert(ctx.employee_id, kind, severity, score, start, end, evidence)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def evidence(
    window: tuple[datetime, datetime],
    accesses: Collection[Access],
    customers: Collection[str],
    **extra: Any,
) -> dict[str, Any]:
    """The evidence every alert carries: window, counts, sample customers and offsets."""
    offsets = [a.offset for a in accesses if a.offset is not None]
    return {
        "window": {"start": iso(window[0]), "end": iso(window[1])},
        "accesses": len(accesses),
        "distinct_customers": len(customers),
        "sample_customer_ids": list(customers)[:SAMPLE_SIZE],
        "offsets": offsets[:SAMPLE_SIZE],
        "offset_range": [min(offsets), max(offsets)] if offsets else None,
        **extra,
    }
