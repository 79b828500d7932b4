"""Off-hours detector: customer data read outside the employee's own working time.

Working time is the employee's schedule (a rota or weekly hours, see events.schedule), else
the hours an administrator set, else the hours their own history shows, else those of their
team: a new employee is compared with their team, never with a fixed day. With none of these
nothing is said. Off-hours accesses are grouped into runs (a pause of ``off_hours_gap`` ends
one); a run of more than ``off_hours_threshold`` accesses is an alert.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache

from events.schedule import Schedule, parse
from services.projections.detect.detectors.common import (
    Bucket,
    PeerCounts,
    evidence,
    in_order,
    make_alert,
    shared,
)
from services.projections.detect.detectors.config import DEFAULT_CONFIG, DetectorConfig
from services.projections.detect.detectors.model import Access, Alert, EmployeeContext

Judge = Callable[[Access], bool]
"""True when an access is outside the employee's working time."""


def in_work_hours(local: datetime, work_hours: tuple[int, int]) -> bool:
    """Whether a local wall-clock time falls in ``(start, end)`` hours; wraps past midnight."""
    start, end = work_hours
    if start == end:
        return True  # round the clock
    if start < end:
        return start <= local.hour < end
    return local.hour >= start or local.hour < end


@lru_cache(maxsize=1024)
def _schedule(text: str) -> Schedule | None:
    try:
        return parse(text)
    except ValueError:
        return None  # validated by the api; an odd stored value must not stop the detector


def widen(hours: set[int]) -> frozenset[int]:
    """Usual hours and the hour either side: starting early or staying late is not a theft."""
    return frozenset((h + d) % 24 for h in hours for d in (-1, 0, 1))


def _active_hours_by_day(activity: list[Access], ctx: EmployeeContext) -> dict[date, set[int]]:
    zone, days = ctx.zone, defaultdict(set)
    for access in activity:
        local = access.at.astimezone(zone)
        days[local.date()].add(local.hour)
    return days


def own_usual_hours(days: dict[date, set[int]], before: date, cfg: DetectorConfig) -> frozenset[int] | None:
    """The hours active on at least ``usual_hour_share`` of the active days in the
    ``hours_baseline_days`` before ``before``; None with fewer than ``baseline_min_days``."""
    window = [hours for d, hours in days.items()
              if before - timedelta(days=cfg.hours_baseline_days) <= d < before]
    if len(window) < cfg.baseline_min_days:
        return None
    counts: dict[int, int] = defaultdict(int)
    for hours in window:
        for hour in hours:
            counts[hour] += 1
    need = max(2.0, cfg.usual_hour_share * len(window))
    return widen({h for h, n in counts.items() if n >= need})


def team_usual_hours(ctx: EmployeeContext, cfg: DetectorConfig) -> frozenset[int] | None:
    if ctx.team_days < cfg.peer_min_size:
        return None
    need = max(2.0, cfg.usual_hour_share * ctx.team_days)
    return widen({h for h, n in ctx.team_hours.items() if n >= need})


def _judge(activity: list[Access], ctx: EmployeeContext, cfg: DetectorConfig) -> tuple[Judge, str] | None:
    """How to tell an off-hours access, and on what basis."""
    schedule = _schedule(ctx.schedule) if ctx.schedule else None
    if schedule is not None:
        return (lambda a: not schedule.on_shift(a.at, cfg.shift_grace, ctx.schedule_from)), "schedule"
    if ctx.work_hours is not None:
        hours = ctx.work_hours
        return (lambda a: not in_work_hours(a.at.astimezone(ctx.zone), hours)), "work_hours"
    days = _active_hours_by_day(activity, ctx)
    team = team_usual_hours(ctx, cfg)
    learned: dict[date, frozenset[int] | None] = {}

    def off(access: Access) -> bool:
        local = access.at.astimezone(ctx.zone)
        if local.date() not in learned:
            learned[local.date()] = own_usual_hours(days, local.date(), cfg) or team
        usual = learned[local.date()]
        return usual is not None and local.hour not in usual

    return off, "own_history" if days else "team"


def _runs(accesses: Sequence[Access], ctx: EmployeeContext, cfg: DetectorConfig) -> tuple[list[Bucket], str]:
    activity = in_order(accesses, cfg.activity_actions)
    judged = _judge(activity, ctx, cfg)
    if judged is None:
        return [], "none"
    off, basis = judged
    runs: list[Bucket] = []
    for access in activity:
        if not off(access):
            continue
        if not runs or access.at - runs[-1].accesses[-1].at > cfg.off_hours_gap:
            runs.append(Bucket())
        runs[-1].add(access, access.customer_ids)
    return runs, basis


def _off_hours_alert(ctx: EmployeeContext, cfg: DetectorConfig, run: Bucket, basis: str) -> Alert:
    first, last = run.accesses[0].at, run.accesses[-1].at
    window = (first, max(last, first + timedelta(minutes=1)))
    local_times = [a.at.astimezone(ctx.zone).strftime("%H:%M") for a in run.accesses]
    ev = evidence(window, run.accesses, run.customers, timezone=ctx.timezone, basis=basis,
                  schedule=ctx.schedule, work_hours=list(ctx.work_hours) if ctx.work_hours else None,
                  first_local=local_times[0], last_local=local_times[-1])
    return make_alert(ctx, "off_hours", len(run.accesses), cfg.off_hours_threshold, window, ev)


def detect_off_hours(
    accesses: Sequence[Access],
    ctx: EmployeeContext,
    cfg: DetectorConfig = DEFAULT_CONFIG,
    *,
    peers: PeerCounts | None = None,
) -> list[Alert]:
    """More than ``off_hours_threshold`` customer-data accesses in one run outside the
    employee's working time (see the module's docstring for what that is)."""
    runs, basis = shared(accesses, ("off_hours_runs", ctx.schedule, ctx.work_hours, ctx.team_days),
                         lambda: _runs(accesses, ctx, cfg))
    return [_off_hours_alert(ctx, cfg, run, basis) for run in runs
            if len(run.accesses) > cfg.off_hours_threshold]
