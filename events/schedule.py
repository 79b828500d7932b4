"""Work schedules as an administrator writes them, and whether a moment falls in a shift.

Two forms, each ending in an IANA time zone:

- a rota: ``"2/2 08:00-20:00 Europe/Moscow"`` (two days on, two off; the cycle starts on the
  day the schedule takes effect, or ``from 2026-03-01`` before the zone);
- weekly hours: ``"Mon-Fri 09:00-18:00, Sat 10:00-14:00 Europe/Moscow"``.

A shift whose end is not after its start crosses midnight (``20:00-08:00``) and belongs to the
day it starts; equal times are a 24-hour shift. Local times become instants through zoneinfo,
so a shift over a DST change is an hour longer or shorter, as the wall clock says. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIMES = r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})"
_ROTA = re.compile(rf"^(\d{{1,2}})/(\d{{1,2}})\s+{_TIMES}(?:\s+from\s+(\d{{4}}-\d{{2}}-\d{{2}}))?$")
_WEEKLY = re.compile(rf"^([a-z]{{3}})(?:-([a-z]{{3}}))?\s+{_TIMES}$")
# A day before and the day itself: a night shift that started yesterday may hold the moment.
_LOOKBACK = (1, 0)


@dataclass(frozen=True)
class Shift:
    """Local start and length of one day's shift."""

    start: time
    hours: timedelta


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule: per weekday (or per rota position) the shift, and the zone."""

    text: str
    zone: str
    weekly: tuple[Shift | None, ...] = ()
    rota: tuple[int, int] | None = None
    rota_shift: Shift | None = None
    rota_from: date | None = None

    def shift_on(self, day: date, effective: date | None = None) -> Shift | None:
        """The shift that starts on local ``day``, if any."""
        if self.rota is not None:
            on, off = self.rota
            first = self.rota_from or effective
            if first is None or day < first:
                return None
            return self.rota_shift if (day - first).days % (on + off) < on else None
        return self.weekly[day.weekday()]

    def on_shift(self, at: datetime, grace: timedelta = timedelta(0),
                 effective: date | None = None) -> bool:
        """Whether ``at`` falls in a shift, widened by ``grace`` either side."""
        zone = ZoneInfo(self.zone)
        local_day = at.astimezone(zone).date()
        for back in _LOOKBACK:
            day = local_day - timedelta(days=back)
            shift = self.shift_on(day, effective)
            if shift is None:
                continue
            begin = datetime.combine(day, shift.start, tzinfo=zone)
            # Wall-clock end: the same local time the next day for a 24-hour or night shift.
            end_naive = datetime.combine(day, shift.start) + shift.hours
            end = end_naive.replace(tzinfo=zone)
            if begin - grace <= at < end + grace:
                return True
        return False


def _shift(h1: str, m1: str, h2: str, m2: str) -> Shift:
    start, end = int(h1) * 60 + int(m1), int(h2) * 60 + int(m2)
    if not (start < 24 * 60 and end <= 24 * 60 and int(m1) < 60 and int(m2) < 60):
        raise ValueError("times must be HH:MM between 00:00 and 24:00")
    minutes = (end - start) % (24 * 60) or 24 * 60
    return Shift(time(start // 60, start % 60), timedelta(minutes=minutes))


def _zone(text: str) -> tuple[str, str]:
    body, _, zone = text.strip().rpartition(" ")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "America" is a directory: IsADirectoryError
        raise ValueError(f"the schedule must end in a time zone such as Europe/Moscow, not {zone!r}") from None
    return body.strip(), zone


def _weekly(body: str) -> tuple[Shift | None, ...]:
    days: list[Shift | None] = [None] * 7
    for part in body.lower().split(","):
        found = _WEEKLY.match(part.strip())
        if not found or found.group(1) not in DAYS or (found.group(2) or "mon") not in DAYS:
            raise ValueError(f"cannot read {part.strip()!r}: expected e.g. 'Mon-Fri 09:00-18:00'")
        first = DAYS.index(found.group(1))
        last = DAYS.index(found.group(2)) if found.group(2) else first
        for day in range(first, last + 1) if first <= last else [*range(first, 7), *range(last + 1)]:
            days[day] = _shift(*found.groups()[2:6])
    return tuple(days)


def parse(text: str) -> Schedule:
    """A schedule from its text; ValueError with the reason when it cannot be read."""
    if len(text) > 300:
        raise ValueError("a schedule is at most 300 characters")
    body, zone = _zone(text)
    rota = _ROTA.match(body)
    if rota:
        on, off = int(rota.group(1)), int(rota.group(2))
        if on < 1 or on + off > 28:
            raise ValueError("a rota works at least one day in a cycle of at most 28")
        since = date.fromisoformat(rota.group(7)) if rota.group(7) else None
        return Schedule(text, zone, rota=(on, off), rota_shift=_shift(*rota.groups()[2:6]),
                        rota_from=since)
    return Schedule(text, zone, weekly=_weekly(body))
