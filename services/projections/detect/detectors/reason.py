"""Business-reason detectors: customers viewed who are not among the employee's own
interactions or queue, in one day and cumulatively over a rolling month."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from services.projections.detect.detectors.common import (
    Baseline,
    Bucket,
    PeerCounts,
    by_local_day,
    day_window,
    evidence,
    in_order,
    make_alert,
    shared,
    trailing,
)
from services.projections.detect.detectors.config import DEFAULT_CONFIG, DetectorConfig
from services.projections.detect.detectors.model import Access, Alert, EmployeeContext


def _unknown_by_day(
    accesses: Sequence[Access], ctx: EmployeeContext, cfg: DetectorConfig
) -> dict[date, Bucket]:
    """Per local day, the views of customers the employee has no recorded reason to see."""
    known = ctx.known_customer_ids

    def group() -> dict[date, Bucket]:
        views = in_order(accesses, cfg.reason_actions)
        return by_local_day([a for a in views if not known.issuperset(a.customer_ids)],
                            ctx.zone, drop=known, start=ctx.day_start)

    return shared(accesses, ("unknown_by_day", ctx.timezone, ctx.day_start, cfg.reason_actions, known), group)


def _revealed_by_day(accesses: Sequence[Access], ctx: EmployeeContext, cfg: DetectorConfig) -> dict[date, Bucket]:
    return shared(accesses, ("revealed_by_day", ctx.timezone, ctx.day_start, cfg.reason_actions),
                  lambda: by_local_day(in_order(accesses, cfg.reason_actions), ctx.zone,
                                       start=ctx.day_start))


def _own_normal(counts: dict[date, int], day: date, cfg: DetectorConfig) -> float:
    """The employee's usual count of such customers a day (0 until there are enough days)."""
    past = trailing(counts, day, cfg.baseline_days)
    return Baseline.of(past).median if len(past) >= cfg.baseline_min_days else 0.0


def detect_no_business_reason(
    accesses: Sequence[Access],
    ctx: EmployeeContext,
    cfg: DetectorConfig = DEFAULT_CONFIG,
    *,
    peers: PeerCounts | None = None,
) -> list[Alert]:
    """Days with more than ``no_reason_count`` customers read (through any door) without a
    business reason, more than ``no_reason_factor`` times the employee's own usual day of
    them, and more than ``no_reason_share`` of the day's customers.

    A few look-ups for a colleague are normal, and so is a busy day of mostly one's own
    customers with a handful of strangers; forty strangers hidden in a normal day are not.
    """
    totals = _revealed_by_day(accesses, ctx, cfg)
    days = _unknown_by_day(accesses, ctx, cfg)
    counts = {day: len(bucket.customers) for day, bucket in days.items()}
    alerts = []
    for day, unknown in days.items():
        count, total = counts[day], len(totals[day].customers)
        share = count / total
        usual = _own_normal(counts, day, cfg)
        if count <= max(cfg.no_reason_count, usual * cfg.no_reason_factor) or share <= cfg.no_reason_share:
            continue
        window = day_window(day, ctx.zone, ctx.day_start)
        ev = evidence(
            window,
            unknown.accesses,
            unknown.customers,
            without_reason=count,
            customers_viewed=total,
            share=round(share, 4),
            share_threshold=cfg.no_reason_share,
            usual_per_day=usual,
        )
        alerts.append(make_alert(ctx, "no_business_reason", count, cfg.no_reason_count, window, ev))
    return alerts


def _merged(days: dict[date, Bucket], first: date, last: date) -> Bucket:
    merged = Bucket()
    for day, bucket in days.items():
        if first <= day <= last:
            merged.accesses.extend(bucket.accesses)
            merged.customers.update(bucket.customers)
    return merged


def detect_low_and_slow(
    accesses: Sequence[Access],
    ctx: EmployeeContext,
    cfg: DetectorConfig = DEFAULT_CONFIG,
    *,
    peers: PeerCounts | None = None,
) -> list[Alert]:
    """More than ``low_slow_threshold`` distinct customers without a business reason over a
    rolling ``low_slow_days`` local days, however quiet each single day was.

    Alerts on the first day the rolling count goes above the threshold, then at most once per
    further full window while it stays above, so a steady harvest is reported monthly and
    not daily.
    """
    days = _unknown_by_day(accesses, ctx, cfg)
    span = timedelta(days=cfg.low_slow_days - 1)
    alerts: list[Alert] = []
    last_alert: date | None = None
    for day in days:
        if last_alert is not None and day - last_alert <= span:
            continue
        window_bucket = _merged(days, day - span, day)
        count = len(window_bucket.customers)
        if count <= cfg.low_slow_threshold:
            continue
        last_alert = day
        window = (day_window(day - span, ctx.zone, ctx.day_start)[0],
                  day_window(day, ctx.zone, ctx.day_start)[1])
        daily = [len(b.customers) for d, b in days.items() if day - span <= d <= day]
        ev = evidence(
            window,
            window_bucket.accesses,
            window_bucket.customers,
            without_reason=count,
            days=cfg.low_slow_days,
            active_days=len(daily),
            max_per_day=max(daily),
        )
        alerts.append(make_alert(ctx, "low_and_slow", count, cfg.low_slow_threshold, window, ev))
    return alerts
