"""Injected misbehaviour: one scenario per detector kind, each at a randomised intensity.

Each range starts just above what the detector documents as still normal (its threshold),
or at what issue 17 says must be caught: forty foreign cards hidden in a day of ordinary
work, fifteen a day over three weeks, forty surnames searched in a few minutes. Below the
thresholds a careful insider is not caught, by design; the thresholds say where that is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from kartoteka.entrypoints.simulate.model import Employee, Log, Staff, phone_of
from services.projections.detect.detectors import Kind


@dataclass(frozen=True)
class Injection:
    """Who misbehaved, how (the kind meant to catch it), when, and how hard."""

    employee_id: str
    kind: Kind
    start: datetime
    end: datetime
    params: dict[str, Any] = field(default_factory=dict)
    scenario: str = ""


def _working_day(staff: Staff, emp: Employee, latest: int = 2, earliest: int = 10) -> int:
    candidates = [d for d in range(max(emp.first_day, staff.days - earliest), staff.days - latest)
                  if emp.works(d, staff.day_date(d).weekday())]
    return staff.rng.choice(candidates or [staff.days - latest])


def _strangers(staff: Staff, n: int) -> list[str]:
    return [staff.new_customer() for _ in range(n)]


def _views(staff: Staff, emp: Employee, log: Log, customers: list[str],
           first: datetime, last: datetime) -> None:
    span = max((last - first).total_seconds(), 1.0)
    for customer in customers:
        log.add(emp, "customer.card", first + timedelta(seconds=staff.rng.uniform(0, span)),
                (customer,))


def volume_spike(staff: Staff, emp: Employee, log: Log) -> Injection:
    day = _working_day(staff, emp)
    n = round(emp.rate * staff.rng.uniform(2.0, 4.0))
    begin, end = staff.shift(emp, day)
    _views(staff, emp, log, _strangers(staff, n), begin, end)
    return Injection(emp.id, "volume_spike", begin, end, {"extra_customers": n})


def breadth(staff: Staff, emp: Employee, log: Log) -> Injection:
    day = _working_day(staff, emp)
    n, minutes = staff.rng.randrange(61, 150), staff.rng.uniform(30, 60)
    begin = next(staff.in_shift(emp, day))
    end = begin + timedelta(minutes=minutes)
    _views(staff, emp, log, _strangers(staff, n), begin, end)
    return Injection(emp.id, "breadth", begin, end, {"customers": n, "minutes": round(minutes)})


def no_business_reason(staff: Staff, emp: Employee, log: Log) -> Injection:
    """Forty foreign cards hidden in a day of ordinary work (issue 17)."""
    day = _working_day(staff, emp)
    begin, end = staff.shift(emp, day)
    _views(staff, emp, log, _strangers(staff, 40), begin, end)
    return Injection(emp.id, "no_business_reason", begin, end, {"customers": 40})


def off_hours(staff: Staff, emp: Employee, log: Log) -> Injection:
    day = _working_day(staff, emp)
    _, end_of_shift = staff.shift(emp, day)
    begin = end_of_shift + timedelta(hours=staff.rng.uniform(2, 4))
    n = staff.rng.randrange(11, 30)
    end = begin + timedelta(hours=staff.rng.uniform(1, 4))
    _views(staff, emp, log, [staff.rng.choice(emp.portfolio) for _ in range(n)], begin, end)
    return Injection(emp.id, "off_hours", begin, end, {"accesses": n})


def enumeration(staff: Staff, emp: Employee, log: Log) -> Injection:
    day = _working_day(staff, emp)
    n = staff.rng.randrange(7, 40)
    at = begin = next(staff.in_shift(emp, day))
    base = int(phone_of("seed" + emp.id).replace(" ", "").replace("-", "")[2:])
    for k in range(n):
        log.add(emp, "customer.search", at, (staff.new_customer(),), f"+7{base + k}")
        at += timedelta(seconds=staff.rng.uniform(5, 90))
    return Injection(emp.id, "enumeration", begin, at, {"sequential_searches": n})


def bulk_export(staff: Staff, emp: Employee, log: Log) -> Injection:
    day = _working_day(staff, emp)
    n = staff.rng.randrange(6, 20)
    begin, end = staff.shift(emp, day)
    for customer in staff.rng.sample(emp.portfolio, n):  # their own clients, to take along
        at = begin + timedelta(seconds=staff.rng.uniform(0, (end - begin).total_seconds()))
        log.add(emp, "customer.export", at, (customer,))
    return Injection(emp.id, "bulk_export", begin, end, {"exports": n})


def notice_activity(staff: Staff, emp: Employee, log: Log) -> Injection:
    day = _working_day(staff, emp, latest=7, earliest=12)
    notice = datetime.combine(staff.day_date(day), time(9), tzinfo=emp.zone)
    emp.status, emp.notice_given_at = "notice_given", notice
    factor = staff.rng.uniform(1.2, 3.0)
    worked = [d for d in range(day, staff.days) if emp.works(d, staff.day_date(d).weekday())]
    for d in worked:
        begin, end = staff.shift(emp, d)
        _views(staff, emp, log, _strangers(staff, round(emp.rate * factor)), begin, end)
    end = staff.shift(emp, worked[-1])[1] if worked else notice
    return Injection(emp.id, "notice_activity", notice, end, {"extra_factor": round(factor, 2)})


def low_and_slow(staff: Staff, emp: Employee, log: Log) -> Injection:
    """Fifteen foreign cards a working day over the last three weeks (issue 17)."""
    per_day = 15
    days = [d for d in range(max(staff.days - 21, emp.first_day), staff.days)
            if emp.works(d, staff.day_date(d).weekday())]
    for d in days:
        begin, end = staff.shift(emp, d)
        _views(staff, emp, log, _strangers(staff, per_day), begin, end)
    begin, end = staff.shift(emp, days[0])[0], staff.shift(emp, days[-1])[1]
    return Injection(emp.id, "low_and_slow", begin, end,
                     {"per_day": per_day, "total": per_day * len(days)})


def surname_enumeration(staff: Staff, emp: Employee, log: Log) -> Injection:
    """Forty different surnames searched in a few minutes, each listing its namesakes."""
    day = _working_day(staff, emp)
    at = begin = next(staff.in_shift(emp, day))
    for k in range(40):
        hits = tuple(staff.new_customer() for _ in range(staff.rng.randrange(1, 6)))
        log.add(emp, "customer.search", at, hits, f"{SURNAME_STEMS[k % len(SURNAME_STEMS)]}{'аеоу'[k // 10]}")
        at += timedelta(seconds=staff.rng.uniform(3, 12))
    return Injection(emp.id, "enumeration", begin, at, {"surnames": 40})


SURNAME_STEMS = ("Абрамов", "Белов", "Власов", "Гусев", "Данилов", "Егоров", "Жуков", "Зайцев",
                 "Ильин", "Комаров")
SCENARIOS: dict[str, Callable[[Staff, Employee, Log], Injection]] = {
    "volume_spike": volume_spike,
    "breadth": breadth,
    "no_business_reason": no_business_reason,
    "off_hours": off_hours,
    "enumeration": enumeration,
    "bulk_export": bulk_export,
    "notice_activity": notice_activity,
    "low_and_slow": low_and_slow,
    "surname_enumeration": surname_enumeration,
}
