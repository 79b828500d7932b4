"""Rules of the agent's work that the api and the work projection both apply: request status
transitions, SLA due times and the default call outcomes. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from events.work import Priority, RequestStatus

DEFAULT_OUTCOMES = ("resolved", "callback", "escalated", "no_answer", "sale", "complaint")
DEFAULT_SLA_HOURS: Mapping[Priority, float] = {"urgent": 4, "high": 8, "normal": 24, "low": 72}
OPEN_STATUSES: frozenset[RequestStatus] = frozenset({"open", "pending"})

# A resolved request may be reopened when the customer writes back; closed is final.
TRANSITIONS: Mapping[RequestStatus, frozenset[RequestStatus]] = {
    "open": frozenset({"pending", "resolved", "closed"}),
    "pending": frozenset({"open", "resolved", "closed"}),
    "resolved": frozenset({"open", "closed"}),
    "closed": frozenset(),
}


def allowed(current: RequestStatus, new: RequestStatus) -> bool:
    """Whether a request in ``current`` may move to ``new``."""
    return new in TRANSITIONS[current]


def due_at(opened_at: datetime, priority: Priority, sla_hours: Mapping[Priority, float] | None = None) -> datetime:
    """When a request opened at ``opened_at`` breaches its SLA."""
    hours = (sla_hours or DEFAULT_SLA_HOURS)[priority]
    return opened_at + timedelta(hours=hours)


def parse_sla_hours(spec: str) -> dict[Priority, float]:
    """``"urgent=4,high=8,normal=24,low=72"`` (missing priorities keep their default)."""
    hours: dict[Priority, float] = dict(DEFAULT_SLA_HOURS)
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, value = part.partition("=")
        if name.strip() not in DEFAULT_SLA_HOURS:
            raise ValueError(f"unknown priority {name.strip()!r} in SLA hours")
        number = float(value)
        if number <= 0:
            raise ValueError(f"SLA hours for {name.strip()} must be positive")
        hours[name.strip()] = number  # type: ignore[index]
    return hours


def parse_outcomes(spec: str) -> tuple[str, ...]:
    """``"resolved,callback,..."``; empty means the default list."""
    found = tuple(dict.fromkeys(p.strip() for p in spec.split(",") if p.strip()))
    return found or DEFAULT_OUTCOMES
