"""What detectors read (accesses, the employee's context) and what they raise (alerts)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from events.catalog import AccessAction, AlertSeverity, DetectorKind
from events.ids import KARTOTEKA_NS
from events.schedule import parse

Kind = DetectorKind
Severity = AlertSeverity
SEVERITIES: tuple[Severity, ...] = ("low", "medium", "high", "critical")
Status = Literal["active", "notice_given", "left"]


def _require_aware(name: str, value: datetime | None) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")


@dataclass(frozen=True)
class Access:
    """One access event of one employee, as the detectors need it.

    ``offset`` is the record's Kafka offset on ``access.v1``, carried into alert evidence so
    an officer can find the exact records.
    """

    employee_id: str
    action: AccessAction
    customer_ids: tuple[str, ...]
    at: datetime
    query: str | None = None
    offset: int | None = None

    def __post_init__(self) -> None:
        _require_aware("Access.at", self.at)
        # Accept a list from a decoded event, but keep the frozen value hashable.
        object.__setattr__(self, "customer_ids", tuple(self.customer_ids))


@dataclass(frozen=True)
class EmployeeContext:
    """Who the employee is: status, team (peer group), when they work, own customers.

    When they work, in order of trust: ``schedule`` (events.schedule text, its rota counted
    from ``schedule_from``); ``work_hours`` ``(start_hour, end_hour)`` set by an administrator
    (a start after the end wraps midnight, equal hours mean round the clock); else the hours
    their own history shows; else ``team_hours`` (local hour -> peer-days active in it, out of
    ``team_days``). ``known_customer_ids`` are the customers the employee has a business
    reason to read (own interactions, owned, requests and tasks, their queue).
    """

    employee_id: str
    team: str | None = None
    status: Status = "active"
    notice_given_at: datetime | None = None
    timezone: str = "Europe/Moscow"
    work_hours: tuple[int, int] | None = None
    known_customer_ids: frozenset[str] = frozenset()
    schedule: str | None = None
    schedule_from: date | None = None
    team_hours: Mapping[int, int] = field(default_factory=dict, hash=False, compare=False)
    team_days: int = 0

    def __post_init__(self) -> None:
        _require_aware("EmployeeContext.notice_given_at", self.notice_given_at)
        if self.work_hours is not None:
            start, end = self.work_hours
            if not (0 <= start <= 23 and 0 <= end <= 23):
                raise ValueError(f"work_hours must be hours 0..23, got {self.work_hours!r}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.timezone!r}") from exc
        object.__setattr__(self, "known_customer_ids", frozenset(self.known_customer_ids))

    @property
    def day_start(self) -> int:
        """The local hour a working day starts: midnight, except for someone whose shifts cross
        it (a night shift counts as one day, not two halves), by their schedule or team."""
        return _day_start(self.schedule, self.work_hours, tuple(sorted(self.team_hours.items())),
                          self.team_days)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)  # ZoneInfo caches instances, so this is cheap.


def alert_id(employee_id: str, kind: str, window_start: datetime) -> str:
    """Deterministic alert id: re-running a detector over history yields the same ids."""
    _require_aware("window_start", window_start)
    start = window_start.astimezone(UTC).isoformat(timespec="microseconds")
    return str(uuid.uuid5(KARTOTEKA_NS, f"alert:{employee_id}:{kind}:{start}"))


@dataclass(frozen=True)
class Alert:
    """A suspicion about one employee in one window, with the evidence behind it.

    ``score`` is 0..1 (0.5 at the threshold, approaching 1 far beyond it); ``evidence`` is
    plain JSON: counts, the window, the baseline, up to 10 sample customer ids, offsets.
    """

    employee_id: str
    kind: Kind
    severity: Severity
    score: float
    window_start: datetime
    window_end: datetime
    evidence: dict[str, Any] = field(default_factory=dict, hash=False)

    @property
    def id(self) -> str:
        return alert_id(self.employee_id, self.kind, self.window_start)


@lru_cache(maxsize=4096)
def _day_start(schedule: str | None, work_hours: tuple[int, int] | None,
               team_hours: tuple[tuple[int, int], ...], team_days: int) -> int:
    starts: list[int] = []
    if schedule:
        try:
            parsed = parse(schedule)
        except ValueError:
            parsed = None
        shifts = [parsed.rota_shift] if parsed and parsed.rota_shift else list(parsed.weekly) if parsed else []
        starts = [s.start.hour for s in shifts
                  if s is not None and s.start.hour * 3600 + s.hours.total_seconds() > 24 * 3600]
    elif work_hours is not None and work_hours[0] > work_hours[1]:
        starts = [work_hours[0]]
    elif team_days >= 3:
        counts = dict(team_hours)
        usual = {h for h, n in counts.items() if n >= 0.1 * team_days}
        if {23, 0} <= usual:  # the team works across midnight: cut the day where it is quietest
            return min(range(24), key=lambda h: (counts.get(h, 0), h))
    # Six hours before the earliest night shift starts: the shift and its overtime in one day.
    return (min(starts) - 6) % 24 if starts else 0
