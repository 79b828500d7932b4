"""Volume detectors: a day far above the employee's own and the peers' normal, and the
departing-employee policy (a day after notice far above the employee's pre-notice normal)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from services.projections.detect.detectors.common import (
    Baseline,
    Bucket,
    PeerCounts,
    by_local_day,
    day_window,
    evidence,
    in_order,
    iso,
    local_date,
    make_alert,
    trailing,
    views_by_day,
)
from services.projections.detect.detectors.config import DEFAULT_CONFIG, DetectorConfig
from services.projections.detect.detectors.model import Access, Alert, EmployeeContext

_MAD_TO_SIGMA = 1.4826  # scales a MAD to a standard deviation for normal data


def _own_threshold(
    counts: dict[date, int], day: date, cfg: DetectorConfig
) -> tuple[Baseline, float] | None:
    past = trailing(counts, day, cfg.baseline_days)
    if len(past) < cfg.baseline_min_days:
        return None  # a new employee has no normal yet; the peers speak for them
    base = Baseline.of(past)
    # A floor under the spread: a perfectly steady agent must not alert on one extra card.
    spread = max(_MAD_TO_SIGMA * base.mad, 1.0)
    return base, max(base.median + cfg.volume_mad_k * spread, base.median * cfg.volume_min_ratio)


def _peer_values(
    peers: PeerCounts | None, ctx: EmployeeContext, day: date, cfg: DetectorConfig
) -> list[int]:
    """The peers' counts on the same day (a team-wide campaign lifts them all); when too few
    peers worked that day, their active days over the baseline period instead."""
    others = [c for pid, c in (peers or {}).items() if pid != ctx.employee_id]
    same_day = [c[day] for c in others if day in c]
    if len(same_day) >= cfg.peer_min_size:
        return same_day
    return [n for c in others for n in trailing(c, day + timedelta(days=1), cfg.baseline_days)]


def _peer_threshold(
    peers: PeerCounts | None, ctx: EmployeeContext, day: date, cfg: DetectorConfig, alone: bool
) -> tuple[Baseline, float] | None:
    """``alone``: the peers are the only yardstick (no own baseline yet), so a wider margin:
    a new hire's or a supervisor's first weeks differ from the average agent's day."""
    values = _peer_values(peers, ctx, day, cfg)
    if len(values) < cfg.peer_min_size:
        return None
    base = Baseline.of(values)
    return base, base.median * (cfg.volume_new_peer_factor if alone else cfg.volume_peer_factor)


def _team_lift(peers: PeerCounts | None, ctx: EmployeeContext, day: date, cfg: DetectorConfig) -> float:
    """How far the team as a whole is above its own normal today (a campaign lifts them all)."""
    others = [c for pid, c in (peers or {}).items() if pid != ctx.employee_id]
    today = [c[day] for c in others if day in c]
    before = [n for c in others for n in trailing(c, day, cfg.baseline_days)]
    if len(today) < cfg.peer_min_size or len(before) < cfg.peer_min_size:
        return 1.0
    return max(1.0, Baseline.of(today).median / max(Baseline.of(before).median, 1.0))


def _own_bar(own: tuple[Baseline, float] | None, peer: tuple[Baseline, float] | None,
             lift: float, cfg: DetectorConfig) -> tuple[float, float]:
    """The employee's normal day and the most customers their normal allows (both raised by
    the team's lift today): their own baseline or, for a new hire, the team's median day."""
    if own is not None:
        return own[0].median, own[1] * lift
    assert peer is not None
    return peer[0].median, peer[0].median * cfg.volume_min_ratio * lift


def _volume_alert(
    ctx: EmployeeContext,
    cfg: DetectorConfig,
    day: date,
    bucket: Bucket,
    counts: dict[date, int],
    peers: PeerCounts | None,
) -> Alert | None:
    own = _own_threshold(counts, day, cfg)
    peer = _peer_threshold(peers, ctx, day, cfg, alone=own is None)
    if own is None and peer is None:
        return None
    # Far above one's own normal AND above what the team does today (covering, a campaign) ...
    threshold = max([float(cfg.volume_min_count)] + [t for _, t in filter(None, (own, peer))])
    strangers = sum(c not in ctx.known_customer_ids for c in bucket.customers)
    # ... or a rise in customers they have no business reason for beyond what their normal
    # allows: their own contacts explain covering and campaigns, not strangers. This catches a
    # low-volume (night, part-time) agent's or a new hire's spike still under the team's bar.
    normal, bar = _own_bar(own, peer, _team_lift(peers, ctx, day, cfg), cfg)
    unexplained = strangers > bar - normal and counts[day] > cfg.volume_min_count
    if counts[day] <= threshold and not unexplained:
        return None
    window = day_window(day, ctx.zone, ctx.day_start)
    ev = evidence(
        window,
        bucket.accesses,
        bucket.customers,
        baseline={**own[0].as_evidence(), "threshold": own[1]} if own else None,
        peer_baseline={**peer[0].as_evidence(), "threshold": peer[1], "team": ctx.team}
        if peer
        else None,
        customers_without_reason=strangers,
        allowed_without_reason=bar - normal,
    )
    limit = threshold if counts[day] > threshold else max(bar, float(cfg.volume_min_count))
    return make_alert(ctx, "volume_spike", counts[day], limit, window, ev)


def detect_volume_spike(
    accesses: Sequence[Access],
    ctx: EmployeeContext,
    cfg: DetectorConfig = DEFAULT_CONFIG,
    *,
    peers: PeerCounts | None = None,
) -> list[Alert]:
    """Days whose distinct customers viewed exceed both the employee's trailing baseline
    (median + k*MAD and a multiple of the median) and the peer group's median times a factor.

    Either comparison is skipped when it has too little data; with neither, nothing is said.
    """
    days = views_by_day(accesses, ctx, cfg)
    counts = {day: len(bucket.customers) for day, bucket in days.items()}
    alerts = (_volume_alert(ctx, cfg, day, bucket, counts, peers) for day, bucket in days.items())
    return [alert for alert in alerts if alert is not None]


def _pre_notice_median(
    before: dict[date, Bucket],
    notice_day: date,
    ctx: EmployeeContext,
    cfg: DetectorConfig,
    peers: PeerCounts | None,
) -> dict[str, Any] | None:
    counts = {day: len(bucket.customers) for day, bucket in before.items()}
    own = trailing(counts, notice_day, cfg.baseline_days)
    if len(own) >= cfg.baseline_min_days:
        return {**Baseline.of(own).as_evidence(), "source": "own"}
    others = [c for pid, c in (peers or {}).items() if pid != ctx.employee_id]
    team = [n for c in others for n in trailing(c, notice_day, cfg.baseline_days)]
    if len(team) >= cfg.peer_min_size:
        return {**Baseline.of(team).as_evidence(), "source": "peers"}
    return None


def _notice_alert(
    ctx: EmployeeContext, day: date, bucket: Bucket, baseline: dict[str, Any], threshold: float
) -> Alert:
    window = day_window(day, ctx.zone, ctx.day_start)
    notice = iso(ctx.notice_given_at) if ctx.notice_given_at else None
    ev = evidence(
        window, bucket.accesses, bucket.customers, baseline=baseline, notice_given_at=notice
    )
    # The policy itself: never below high, and not escalated again for being after notice.
    count = len(bucket.customers)
    return make_alert(ctx, "notice_activity", count, threshold, window, ev, "high", False)


def detect_notice_activity(
    accesses: Sequence[Access],
    ctx: EmployeeContext,
    cfg: DetectorConfig = DEFAULT_CONFIG,
    *,
    peers: PeerCounts | None = None,
) -> list[Alert]:
    """After notice was given, days whose distinct customers viewed exceed the pre-notice
    median by ``notice_factor`` (and ``notice_min_count``). At least high severity: this is
    the manager about to leave with the customer base. Without an own pre-notice baseline
    the peers' days stand in for it."""
    notice = ctx.notice_given_at
    if ctx.status == "active" or notice is None:
        return []
    views = in_order(accesses, cfg.view_actions)
    before = by_local_day((a for a in views if a.at < notice), ctx.zone, start=ctx.day_start)
    baseline = _pre_notice_median(before, local_date(notice, ctx.zone, ctx.day_start), ctx, cfg, peers)
    if baseline is None:
        return []
    threshold = max(baseline["median"] * cfg.notice_factor, float(cfg.notice_min_count))
    after = by_local_day((a for a in views if a.at >= notice), ctx.zone, start=ctx.day_start)
    return [
        _notice_alert(ctx, day, bucket, baseline, threshold)
        for day, bucket in after.items()
        if len(bucket.customers) > threshold
    ]
