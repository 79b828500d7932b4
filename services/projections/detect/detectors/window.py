"""Window detectors: many distinct customers in a short sliding window, many exports a day."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from services.projections.detect.detectors.common import (
    Bucket,
    PeerCounts,
    by_local_day,
    day_window,
    evidence,
    in_order,
    make_alert,
)
from services.projections.detect.detectors.config import DEFAULT_CONFIG, DetectorConfig
from services.projections.detect.detectors.model import Access, Alert, EmployeeContext


def _first_breach(views: list[Access], begin: int, cfg: DetectorConfig) -> int | None:
    """Index of the earliest access opening a window that holds too many distinct customers."""
    seen: Counter[str] = Counter()
    left = begin
    for right in range(begin, len(views)):
        seen.update(views[right].customer_ids)
        while views[right].at - views[left].at >= cfg.breadth_window:
            for customer in views[left].customer_ids:
                # Drop customers no longer in the window (in place: a copy per step is O(n^2)).
                if seen[customer] <= 1:
                    del seen[customer]
                else:
                    seen[customer] -= 1
            left += 1
        if len(seen) > cfg.breadth_threshold:
            return left
    return None


def detect_breadth(
    accesses: Sequence[Access],
    ctx: EmployeeContext,
    cfg: DetectorConfig = DEFAULT_CONFIG,
    *,
    peers: PeerCounts | None = None,
) -> list[Alert]:
    """More than ``breadth_threshold`` distinct customers viewed within ``breadth_window``.

    The window starts at the access that opens the first breach, so the same history always
    gives the same window (and alert id); scanning resumes after that window ends, so one
    burst raises one alert per window rather than one per access.
    """
    views = in_order(accesses, cfg.view_actions)
    alerts: list[Alert] = []
    begin = 0
    while (start := _first_breach(views, begin, cfg)) is not None:
        window = (views[start].at, views[start].at + cfg.breadth_window)
        bucket = Bucket()
        begin = start
        while begin < len(views) and views[begin].at < window[1]:
            bucket.add(views[begin], views[begin].customer_ids)
            begin += 1
        ev = evidence(
            window,
            bucket.accesses,
            bucket.customers,
            window_seconds=cfg.breadth_window.total_seconds(),
        )
        alerts.append(
            make_alert(ctx, "breadth", len(bucket.customers), cfg.breadth_threshold, window, ev)
        )
    return alerts


def detect_bulk_export(
    accesses: Sequence[Access],
    ctx: EmployeeContext,
    cfg: DetectorConfig = DEFAULT_CONFIG,
    *,
    peers: PeerCounts | None = None,
) -> list[Alert]:
    """More than ``export_threshold`` data-subject exports in one local day."""
    exports = in_order(accesses, {"customer.export"})
    alerts = []
    for day, bucket in by_local_day(exports, ctx.zone, start=ctx.day_start).items():
        if len(bucket.accesses) <= cfg.export_threshold:
            continue
        window = day_window(day, ctx.zone, ctx.day_start)
        ev = evidence(window, bucket.accesses, bucket.customers, exports=len(bucket.accesses))
        alerts.append(
            make_alert(ctx, "bulk_export", len(bucket.accesses), cfg.export_threshold, window, ev)
        )
    return alerts
