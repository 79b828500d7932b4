"""Which alerts an evaluation raises: the pure step between loaded history and alerts.v1.

The worker and ``kartoteka replay-detectors`` evaluate the same way: for the local days a
set of new accesses falls on (the *span*), run every detector over the employee's history
from ``HORIZON`` before the span to its end, and keep the alerts whose window overlaps the
span. Older windows were the business of earlier evaluations; alert ids are deterministic,
so an alert seen by two evaluations (a window across midnight) is still one alert.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime, timedelta

from events.catalog import AlertRaised
from services.projections.detect.detectors import (
    DEFAULT_CONFIG,
    Access,
    Alert,
    DetectorConfig,
    EmployeeContext,
    Kind,
    PeerCounts,
    run_all,
)
from services.projections.detect.detectors.common import day_window, local_date

HORIZON = timedelta(days=45)
"""The longest look-back of any detector: 30 days of low-and-slow plus a 14-day baseline."""
SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}


def span_of(accesses: Iterable[Access], ctx: EmployeeContext) -> tuple[datetime, datetime]:
    """From the local midnight before the first access to the one after the last (UTC)."""
    times = [a.at for a in accesses]
    if not times:
        raise ValueError("a span needs at least one access")
    zone, hour = ctx.zone, ctx.day_start
    first = day_window(local_date(min(times), zone, hour), zone, hour)[0]
    last = day_window(local_date(max(times), zone, hour), zone, hour)[1]
    return first, last


def history_start(span: tuple[datetime, datetime]) -> datetime:
    return span[0] - HORIZON


def evaluate(
    history: Sequence[Access],
    ctx: EmployeeContext,
    span: tuple[datetime, datetime],
    cfg: DetectorConfig = DEFAULT_CONFIG,
    *,
    peers: PeerCounts | None = None,
    kinds: Collection[Kind] | None = None,
) -> list[Alert]:
    """The alerts of ``ctx``'s employee whose window overlaps ``span``."""
    alerts = run_all(history, ctx, cfg, peers=peers, kinds=kinds)
    return [a for a in alerts if a.window_end > span[0] and a.window_start < span[1]]


def strongest(alerts: Iterable[Alert]) -> list[Alert]:
    """One alert per id, the most severe (then highest-scoring) one, in window order."""
    best: dict[str, Alert] = {}
    for alert in alerts:
        kept = best.get(alert.id)
        if kept is None or _rank(alert) > _rank(kept):
            best[alert.id] = alert
    return sorted(best.values(), key=lambda a: (a.window_start, a.kind, a.employee_id))


def _rank(alert: Alert) -> tuple[int, float]:
    return SEVERITY_RANK[alert.severity], alert.score


def to_event(alert: Alert, history: Sequence[Access], detector: str = "detect") -> AlertRaised:
    """The alerts.v1 event of ``alert``; raised at the last access it could have seen.

    The time comes from the accesses, not a clock, so a replay raises identical events.
    """
    seen = [a.at for a in history if a.at < alert.window_end]
    raised = max(seen, default=alert.window_end).astimezone(UTC)
    return AlertRaised(
        id=alert.id,
        employee_id=alert.employee_id,
        kind=alert.kind,
        severity=alert.severity,
        score=alert.score,
        window_start=alert.window_start,
        window_end=alert.window_end,
        evidence=alert.evidence,
        raised_at=min(raised, alert.window_end),
        detector=detector,
    )


def unraised(alerts: Iterable[Alert], raised: dict[str, int]) -> list[Alert]:
    """Alerts never raised before, or now more severe than when they were."""
    return [a for a in alerts if SEVERITY_RANK[a.severity] > raised.get(a.id, -1)]
