"""What detectors read (accesses, the employee's context) and what they raise (alerts)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from events.catalog import AccessAction, AlertSeverity
from events.ids import KARTOTEKA_NS

Kind = Literal[
    "volume_spike",
    "breadth",
    "no_business_reason",
    "off_hours",
    "enumeration",
    "bulk_export",
    "notice_activity",
    "low_and_slow",
]
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
    """Who the employee is: status, team (peer group), local working hours, own customers.

    ``work_hours`` is ``(start_hour, end_hour)`` in local time; a start after the end is a
    night shift wrapping midnight, equal hours mean round the clock. ``known_customer_ids``
    are the customers among the employee's own recent interactions and queue: a view of one
    of them has an obvious business reason.
    """

    employee_id: str
    team: str | None = None
    status: Status = "active"
    notice_given_at: datetime | None = None
    timezone: str = "Europe/Moscow"
    work_hours: tuple[int, int] = (8, 20)
    known_customer_ids: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        _require_aware("EmployeeContext.notice_given_at", self.notice_given_at)
        start, end = self.work_hours
        if not (0 <= start <= 23 and 0 <= end <= 23):
            raise ValueError(f"work_hours must be hours 0..23, got {self.work_hours!r}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.timezone!r}") from exc
        object.__setattr__(self, "known_customer_ids", frozenset(self.known_customer_ids))

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
