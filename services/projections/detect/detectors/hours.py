"""Off-hours detector: customer data read outside the employee's own working hours."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta

from services.projections.detect.detectors.common import (
    Bucket,
    PeerCounts,
    evidence,
    in_order,
    make_alert,
)
from services.projections.detect.detectors.config import DEFAULT_CONFIG, DetectorConfig
from services.projections.detect.detectors.model import Access, Alert, EmployeeContext


def in_work_hours(local: datetime, work_hours: tuple[int, int]) -> bool:
    """Whether a local wall-clock time falls in ``(start, end)`` hours; wraps past midnight."""
    start, end = work_hours
    if start == end:
        return True  # round the clock
    if start < end:
        return start <= local.hour < end
    return local.hour >= start or local.hour < end


def _span_start(local: datetime, end_hour: int) -> datetime:
    """Naive local start of the off-hours span holding ``local`` (e.g. 20:00 the evening
    before, for 03:00 with hours 8-20): shifting by the end hour puts a span in one date."""
    span_date = (local.replace(tzinfo=None) - timedelta(hours=end_hour)).date()
    return datetime.combine(span_date, time(end_hour))


def _spans(
    accesses: Sequence[Access], ctx: EmployeeContext, cfg: DetectorConfig
) -> dict[datetime, Bucket]:
    """Off-hours accesses grouped by the naive local start of their span."""
    spans: dict[datetime, Bucket] = {}
    for access in in_order(accesses, cfg.activity_actions):
        local = access.at.astimezone(ctx.zone)
        if not in_work_hours(local, ctx.work_hours):
            start = _span_start(local, ctx.work_hours[1])
            spans.setdefault(start, Bucket()).add(access, access.customer_ids)
    return spans


def _off_hours_alert(
    ctx: EmployeeContext, cfg: DetectorConfig, naive_start: datetime, bucket: Bucket
) -> Alert:
    zone, (start_hour, end_hour) = ctx.zone, ctx.work_hours
    naive_end = naive_start + timedelta(hours=(start_hour - end_hour) % 24)
    window = (
        naive_start.replace(tzinfo=zone).astimezone(UTC),
        naive_end.replace(tzinfo=zone).astimezone(UTC),
    )
    local_times = [a.at.astimezone(zone).strftime("%H:%M") for a in bucket.accesses]
    ev = evidence(
        window,
        bucket.accesses,
        bucket.customers,
        timezone=ctx.timezone,
        work_hours=list(ctx.work_hours),
        first_local=local_times[0],
        last_local=local_times[-1],
    )
    return make_alert(ctx, "off_hours", len(bucket.accesses), cfg.off_hours_threshold, window, ev)


def detect_off_hours(
    accesses: Sequence[Access],
    ctx: EmployeeContext,
    cfg: DetectorConfig = DEFAULT_CONFIG,
    *,
    peers: PeerCounts | None = None,
) -> list[Alert]:
    """More than ``off_hours_threshold`` customer-data accesses in one off-hours span (for
    8-20 hours: 20:00 to 08:00 the next morning) of the employee's own time zone."""
    return [
        _off_hours_alert(ctx, cfg, start, bucket)
        for start, bucket in _spans(accesses, ctx, cfg).items()
        if len(bucket.accesses) > cfg.off_hours_threshold
    ]
