"""A contact center's normal working life, as access events.

Teams in two time zones (and a night team) on 5/2 and 2/2 rotas; each agent has a portfolio
of customers they already serve and takes a queue of contacts per shift, some from the
portfolio, some new. Per contact the agent usually searches by phone, opens the card and
the timeline. Around that: a few look-ups of colleagues' customers, name searches that
list several people, team campaign days, the odd overtime evening, new hires without
history, supervisors exporting for data-subject requests now and then.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from events.catalog import AccessAction
from services.projections.detect.detectors import Access

TEAMS = (
    ("retail-msk", "Europe/Moscow", (8, 20)),
    ("retail-ekb", "Asia/Yekaterinburg", (9, 18)),
    ("vip-msk", "Europe/Moscow", (9, 21)),
    ("night-msk", "Europe/Moscow", (20, 8)),
)
SURNAMES = ("Иванова", "Петров", "Смирнова", "Кузнецов", "Попова", "Соколов", "Лебедева",
            "Smirnov", "Volkova", "Морозов", "Новикова", "Фёдоров")


@dataclass
class Employee:
    """One member of staff and what the simulation knows about them."""

    id: str
    team: str
    timezone: str
    hours: tuple[int, int]
    rota: str  # "5/2" or "2/2"
    rate: float  # contacts per shift
    first_day: int  # new hires start later
    supervisor: bool
    portfolio: list[str] = field(default_factory=list)
    known: set[str] = field(default_factory=set)
    status: str = "active"
    notice_given_at: datetime | None = None
    schedule: str | None = None  # what an administrator told the system; else it learns
    absent: frozenset[int] = frozenset()  # days off sick or on leave (a colleague covers)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def works(self, day: int, weekday: int) -> bool:
        if day < self.first_day or day in self.absent:
            return False
        return weekday < 5 if self.rota == "5/2" else (day + self.rota_offset) % 4 < 2

    @property
    def rota_offset(self) -> int:
        return sum(map(ord, self.id))

    def schedule_text(self, start: date) -> str:
        """This employee's rota as events.schedule reads it (the simulated calendar's)."""
        hours = f"{self.hours[0]:02d}:00-{self.hours[1]:02d}:00"
        if self.rota == "5/2":
            return f"Mon-Fri {hours} {self.timezone}"
        first = start - timedelta(days=self.rota_offset % 4)  # day d works when (d + offset) % 4 < 2
        return f"2/2 {hours} from {first.isoformat()} {self.timezone}"


@dataclass
class Log:
    """The accesses of every employee, each with its next per-employee offset."""

    accesses: dict[str, list[Access]] = field(default_factory=dict)

    def add(self, emp: Employee, action: AccessAction, at: datetime,
            customers: tuple[str, ...] = (), query: str | None = None) -> None:
        own = self.accesses.setdefault(emp.id, [])
        own.append(Access(emp.id, action, customers, at.astimezone(UTC), query, len(own)))

    def count(self) -> int:
        return sum(len(a) for a in self.accesses.values())


def phone_of(customer: str) -> str:
    """A Russian mobile number of its own for every simulated customer."""
    tail = customer.rsplit("-", 1)[-1]
    n = int(tail) if tail.isdigit() else sum(ord(c) * 31**i for i, c in enumerate(customer))
    n %= 10**7
    return f"+7 912 {n // 10000:03d}-{(n // 100) % 100:02d}-{n % 100:02d}"


class Staff:
    """Employees, their customers and the calendar of one simulation run."""

    def __init__(self, employees: int, days: int, end: date, rng: random.Random) -> None:
        self.rng, self.days = rng, days
        self.start = end - timedelta(days=days)
        self.counter = 0
        self.employees = [self._employee(n) for n in range(employees)]
        self.campaigns = {(t[0], rng.randrange(days)) for t in TEAMS for _ in range(2)}
        self.covering = self._absences()

    def _absences(self) -> dict[str, Employee]:
        """Two agents away for five days each; a teammate takes their customers' contacts."""
        away = self.rng.sample([e for e in self.employees if not e.supervisor], 2)
        covering: dict[str, Employee] = {}
        for emp in away:
            mates = [e for e in self.team_of(emp)
                     if not e.supervisor and e not in away and e.id not in covering]
            if not mates or self.days < 12:
                continue  # a small staff or a short run: nobody away
            first = self.rng.randrange(self.days // 3, self.days - 6)
            emp.absent = frozenset(range(first, first + 5))
            covering[self.rng.choice(mates).id] = emp
        return covering

    def new_customer(self) -> str:
        self.counter += 1
        return f"cust-{self.counter:07d}"

    def _employee(self, n: int) -> Employee:
        rng = self.rng
        team, zone, hours = TEAMS[n % len(TEAMS)]
        emp = Employee(
            id=f"emp-{n:03d}", team=team, timezone=zone, hours=hours,
            rota="2/2" if team == "night-msk" or rng.random() < 0.3 else "5/2",
            rate=rng.uniform(20, 40), first_day=rng.randrange(8, 20) if rng.random() < 0.1 else 0,
            supervisor=n < len(TEAMS),
        )
        emp.portfolio = [self.new_customer() for _ in range(rng.randrange(150, 400))]
        emp.known.update(emp.portfolio)
        if rng.random() < 0.5:
            emp.schedule = emp.schedule_text(self.start)
        return emp

    def team_of(self, emp: Employee) -> list[Employee]:
        return [e for e in self.employees if e.team == emp.team and e is not emp]

    def day_date(self, day: int) -> date:
        return self.start + timedelta(days=day)

    def shift(self, emp: Employee, day: int) -> tuple[datetime, datetime]:
        """This shift's start and end (aware, local), with a little jitter."""
        start_hour, end_hour = emp.hours
        begin = datetime.combine(self.day_date(day), time(start_hour), tzinfo=emp.zone)
        length = (end_hour - start_hour) % 24 or 24
        begin += timedelta(minutes=self.rng.uniform(-15, 20))
        return begin, begin + timedelta(hours=length, minutes=self.rng.uniform(-30, 10))

    def in_shift(self, emp: Employee, day: int) -> Iterator[datetime]:
        """Endless random moments of this shift (jittered once per call)."""
        begin, end = self.shift(emp, day)
        span = (end - begin).total_seconds()
        while True:
            yield begin + timedelta(seconds=self.rng.uniform(0, span))

    def colleague_customer(self, emp: Employee) -> str:
        return self.rng.choice(self.rng.choice(self.team_of(emp)).portfolio)


def normal_day(staff: Staff, emp: Employee, day: int, log: Log) -> None:
    """One ordinary working day of ``emp`` (nothing when off rota)."""
    rng = staff.rng
    if not emp.works(day, staff.day_date(day).weekday()):
        return
    boost = 1.6 if (emp.team, day) in staff.campaigns else 1.0
    moments = staff.in_shift(emp, day)
    for _ in range(max(0, round(rng.gauss(emp.rate * boost, emp.rate * 0.2)))):
        _contact(staff, emp, next(moments), log)
    absent = staff.covering.get(emp.id)
    if absent is not None and day in absent.absent:  # their customers call; this agent answers
        for _ in range(round(absent.rate * 0.8)):
            _contact(staff, emp, next(moments), log, absent.portfolio)
    for _ in range(rng.randrange(0, 5)):  # a colleague's customer, a callback, a transfer
        log.add(emp, "customer.card", next(moments), (staff.colleague_customer(emp),))
    for _ in range(rng.randrange(0, 4)):
        hits = tuple(rng.choice(emp.portfolio) for _ in range(rng.randrange(2, 15)))
        log.add(emp, "customer.search", next(moments), hits, rng.choice(SURNAMES))
    if emp.supervisor and rng.random() < 0.15:  # a data-subject request
        log.add(emp, "customer.export", next(moments), (rng.choice(emp.portfolio),))
    if emp.supervisor:  # reviewing the team's work: their customers are the supervisor's too
        for _ in range(rng.randrange(5, 30)):
            log.add(emp, "customer.timeline", next(moments), (staff.colleague_customer(emp),))
    if rng.random() < 0.05:
        _overtime(staff, emp, day, log)


def _contact(staff: Staff, emp: Employee, at: datetime, log: Log,
             portfolio: list[str] | None = None) -> None:
    rng = staff.rng
    if portfolio is not None:
        customer = rng.choice(portfolio)
        emp.known.add(customer)  # a covered colleague's customer calls: an interaction
    elif rng.random() < 0.5:
        customer = rng.choice(emp.portfolio)
    else:
        customer = staff.new_customer()
        emp.known.add(customer)  # the contact is an interaction: a business reason
    if rng.random() < 0.6:
        log.add(emp, "customer.search", at, (customer,), phone_of(customer))
    if rng.random() < 0.95:
        log.add(emp, "customer.card", at + timedelta(seconds=10), (customer,))
    if rng.random() < 0.8:
        log.add(emp, "customer.timeline", at + timedelta(seconds=30), (customer,))


def _overtime(staff: Staff, emp: Employee, day: int, log: Log) -> None:
    _, end = staff.shift(emp, day)
    for n in range(staff.rng.randrange(3, 9)):
        at = end + timedelta(minutes=10 + 12 * n)
        log.add(emp, "customer.card", at, (staff.rng.choice(emp.portfolio),))


def simulate_normal(staff: Staff, log: Log, progress: bool = False) -> None:
    for day in range(staff.days):
        for emp in staff.employees:
            normal_day(staff, emp, day, log)
        if progress:
            print(f"\r  day {day + 1}/{staff.days}: {log.count():,} accesses", end="", flush=True)
    if progress:
        print()
