"""Helpers shared by the detectors: ordering, local days, baselines, grading, evidence."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import islice
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

from services.projections.detect.detectors.config import DetectorConfig
from services.projections.detect.detectors.model import (
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
T = TypeVar("T")


class Ordered(list[Access]):
    """Accesses already in ``in_order``'s order (a stable sort by the same key), and what
    detectors derived from them (see ``shared``)."""

    def __init__(self, accesses: Iterable[Access] = ()) -> None:
        super().__init__(accesses)
        self.derived: dict[Hashable, Any] = {}


def shared(accesses: Iterable[Access], key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, once per ordered stream for all the detectors asking the same ``key``
    (several group the same views by day); the result must be left unchanged by them."""
    if not isinstance(accesses, Ordered):
        return compute()
    if key not in accesses.derived:
        accesses.derived[key] = compute()
    return cast(T, accesses.derived[key])


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


@lru_cache(maxsize=1 << 17)
def local_date(at: datetime, zone: ZoneInfo, start: int = 0) -> date:
    """The local working day of ``at`` (days begin at local hour ``start``); remembered, as
    every detector asks it of every access and a worker asks it again at each evaluation."""
    local = at.astimezone(zone)
    return (local - timedelta(hours=start)).date() if start else local.date()


def by_local_day(
    accesses: Iterable[Access], zone: ZoneInfo, drop: AbstractSet[str] = frozenset(), start: int = 0
) -> dict[date, Bucket]:
    """Group accesses by the employee's local calendar day, leaving out the customers in
    ``drop`` (the accesses still count)."""
    # Per access, as cheaply as possible: a heavy reader's history is tens of thousands.
    days: dict[date, Bucket] = {}
    day: date | None = None
    kept: list[Access] = []
    customers: dict[str, None] = {}
    for access in accesses:
        if (at_day := local_date(access.at, zone, start)) != day:
            bucket = days.get(at_day)
            if bucket is None:
                bucket = days[at_day] = Bucket()
            day, kept, customers = at_day, bucket.accesses, bucket.customers
        kept.append(access)
        ids = access.customer_ids
        if drop and not drop.isdisjoint(ids):
            ids = tuple(c for c in ids if c not in drop)
        for customer in ids:
            customers[customer] = None
    return dict(sorted(days.items()))


def views_by_day(
    accesses: Iterable[Access], ctx: EmployeeContext, cfg: DetectorConfig
) -> dict[date, Bucket]:
    """The customers viewed per local day (shared by the detectors of one stream)."""
    return shared(accesses, ("views_by_day", ctx.timezone, ctx.day_start, cfg.view_actions),
                  lambda: by_local_day(in_order(accesses, cfg.view_actions), ctx.zone, start=ctx.day_start))


def day_window(day: date, zone: ZoneInfo, hour: int = 0) -> tuple[datetime, datetime]:
    """From the day's start (local midnight, or local ``hour``) to the next day's, in UTC."""
    start = datetime.combine(day, time(hour), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(hour), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def daily_distinct_counts(
    accesses: Iterable[Access], ctx: EmployeeContext, cfg: DetectorConfig
) -> dict[date, int]:
    """Distinct customers viewed per local day: feed one of these per peer to ``peers``."""
    return {day: len(bucket.customers) for day, bucket in views_by_day(accesses, ctx, cfg).items()}


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
        "sample_customer_ids": list(islice(customers, SAMPLE_SIZE)),
        "offsets": offsets[:SAMPLE_SIZE],
        "offset_range": [min(offsets), max(offsets)] if offsets else None,
        **extra,
    }
