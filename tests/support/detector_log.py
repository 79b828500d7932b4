"""Simulated access streams for the detector tests: a normal agent's month and one scenario per kind."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from events.catalog import AccessAction
from services.projections.detect.detectors import (
    Access,
    Alert,
    EmployeeContext,
    Kind,
    PeerCounts,
)

MOSCOW = ZoneInfo("Europe/Moscow")
MONDAY = date(2024, 3, 4)
EMP = "emp-42"
SURNAMES = ["Иванова", "Петров", "Смирнова", "Кузнецов", "Попова", "Соколов", "Лебедева"]


def moment(day: int, hour: int, minute: int = 0, zone: ZoneInfo = MOSCOW) -> datetime:
    """Local wall-clock time on the ``day``-th day of the test calendar."""
    return datetime.combine(MONDAY + timedelta(days=day), time(hour, minute), tzinfo=zone)


def own(n: int) -> str:
    return f"own-{n:05d}"


def stranger(n: int) -> str:
    return f"stranger-{n:05d}"


KNOWN = frozenset(own(n) for n in range(5000))


def context(**changes: Any) -> EmployeeContext:
    return EmployeeContext(
        **{"employee_id": EMP, "team": "retail", "known_customer_ids": KNOWN, **changes}
    )


@dataclass
class Log:
    """One employee's accesses, each with the next Kafka offset."""

    employee_id: str = EMP
    items: list[Access] = field(default_factory=list)

    def add(
        self,
        action: AccessAction,
        at: datetime,
        customers: Iterable[str] = (),
        query: str | None = None,
    ) -> None:
        self.items.append(
            Access(
                self.employee_id, action, tuple(customers), at, query, offset=1000 + len(self.items)
            )
        )

    def views(
        self,
        start: datetime,
        customers: Iterable[str],
        every: timedelta,
        action: AccessAction = "customer.card",
    ) -> None:
        for n, customer in enumerate(customers):
            self.add(action, start + n * every, [customer])

    def searches(self, start: datetime, queries: Iterable[str], every: timedelta) -> None:
        for n, query in enumerate(queries):
            self.add("customer.search", start + n * every, [own(n)], query)


def normal_day(log: Log, day: int, rng: random.Random, strangers: int = 2) -> None:
    """An agent's shift: ~40 own customers (card, often the timeline), a couple of look-ups
    for colleagues, some searches, now and then an export or a late call."""
    customers = [own(n) for n in rng.sample(range(600), rng.randint(36, 44))]
    customers += [stranger(n) for n in rng.sample(range(30), strangers)]
    minutes = sorted(rng.sample(range(9 * 60, 19 * 60), len(customers)))
    for minute, customer in zip(minutes, customers, strict=True):
        at = moment(day, 0) + timedelta(minutes=minute)
        log.add("customer.card", at, [customer])
        if rng.random() < 0.6:
            log.add("customer.timeline", at + timedelta(seconds=40), [customer])
    for minute in sorted(rng.sample(range(9 * 60, 19 * 60), 8)):
        query = rng.choice(SURNAMES) if rng.random() < 0.6 else f"+7 9{rng.randint(0, 10**9):09d}"
        log.add(
            "customer.search",
            moment(day, 0) + timedelta(minutes=minute),
            [own(rng.randrange(600))],
            query,
        )
    if day % 3 == 0:
        log.add("customer.export", moment(day, 15), [customers[0]])
    if day % 4 == 1:
        log.add("customer.card", moment(day, 20, 15), [customers[-1]])


def normal_history(days: int = 14, seed: int = 7, strangers: int = 2) -> Log:
    log, rng = Log(), random.Random(seed)
    for day in range(days):
        normal_day(log, day, rng, strangers)
    return log


def team(days: int, level: int = 40) -> PeerCounts:
    """Four peers viewing about ``level`` customers on each day."""
    return {
        f"peer-{k}": {MONDAY + timedelta(days=d): level - 2 + k for d in range(days)}
        for k in range(4)
    }


Scenario = tuple[list[Access], EmployeeContext, PeerCounts | None]


# --- scenarios -----------------------------------------------------------------------------


def volume_spike(peers: bool = True) -> Scenario:
    log = normal_history(14)
    log.views(moment(14, 9), [own(1000 + n) for n in range(150)], timedelta(minutes=3))
    return log.items, context(), team(15) if peers else None


def breadth() -> Scenario:
    log = normal_history(14)
    log.views(moment(14, 10), [own(2000 + n) for n in range(70)], timedelta(seconds=30))
    return log.items, context(), team(15)


def no_business_reason() -> Scenario:
    log = normal_history(14)
    log.views(moment(14, 9), [own(n) for n in range(10)], timedelta(minutes=20))
    log.views(moment(14, 13), [stranger(500 + n) for n in range(30)], timedelta(minutes=10))
    return log.items, context(), team(15)


def off_hours() -> Scenario:
    log = normal_history(14)
    log.views(moment(14, 22), [own(n) for n in range(12)], timedelta(minutes=20))
    return log.items, context(), team(15)


def enumeration() -> Scenario:
    log = normal_history(14)
    phones = [f"+7 912 000-00-{n:02d}" for n in range(1, 11)]
    log.searches(moment(14, 11), phones, timedelta(seconds=20))
    return log.items, context(), team(15)


def bulk_export() -> Scenario:
    log = normal_history(14)
    log.views(moment(14, 16), [own(n) for n in range(6)], timedelta(minutes=5), "customer.export")
    return log.items, context(), team(15)


def notice_activity() -> Scenario:
    log = normal_history(14)
    log.views(moment(15, 9), [own(3000 + n) for n in range(90)], timedelta(minutes=5))
    ctx = context(status="notice_given", notice_given_at=moment(14, 10))
    return log.items, ctx, team(16)


def low_and_slow() -> Scenario:
    log = normal_history(30, strangers=0)
    for day in range(30):
        log.views(
            moment(day, 12), [stranger(12 * day + n) for n in range(12)], timedelta(minutes=15)
        )
    return log.items, context(), team(30)


POSITIVE: list[tuple[Kind, Callable[[], Scenario], datetime, dict[str, Any]]] = [
    ("volume_spike", volume_spike, moment(14, 0), {"distinct_customers": 150}),
    (
        "volume_spike",
        lambda: volume_spike(peers=False),
        moment(14, 0),
        {"distinct_customers": 150, "peer_baseline": None},
    ),
    ("breadth", breadth, moment(14, 10), {"distinct_customers": 70, "accesses": 70}),
    (
        "no_business_reason",
        no_business_reason,
        moment(14, 0),
        {"without_reason": 30, "customers_viewed": 40, "share": 0.75},
    ),
    (
        "off_hours",
        off_hours,
        moment(14, 22),
        {"accesses": 12, "first_local": "22:00", "last_local": "01:40", "basis": "own_history"},
    ),
    (
        "enumeration",
        enumeration,
        moment(14, 11),
        {"sequential_run": 10, "searches": 10, "signals": ["sequential_run"]},
    ),
    ("bulk_export", bulk_export, moment(14, 0), {"exports": 6, "distinct_customers": 6}),
    ("notice_activity", notice_activity, moment(15, 0), {"distinct_customers": 90}),
    ("low_and_slow", low_and_slow, moment(10 - 29, 0), {"without_reason": 132, "max_per_day": 12}),
]


def only(alerts: list[Alert], kind: Kind) -> Alert:
    assert [a.kind for a in alerts] == [kind], alerts
    return alerts[0]

