"""Which birthdays fall in the next N days: pure calendar arithmetic for the birthdays report.

A birthday is stored as ``month * 100 + day`` (``customer_profiles.birth_mmdd``), so the report
looks up a list of keys by index instead of computing ages over every customer. Someone born on
29 February celebrates on 28 February in a common year.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

MAX_WINDOW_DAYS = 366


def birthday_key(born: date) -> int:
    """The stored key of a birth date."""
    return born.month * 100 + born.day


def keys_within(today: date, within_days: int) -> list[int]:
    """Birthday keys falling on ``today`` .. ``today + within_days``, soonest first."""
    if not 0 <= within_days <= MAX_WINDOW_DAYS:
        raise ValueError(f"within_days must be 0..{MAX_WINDOW_DAYS}")
    keys: list[int] = []
    for offset in range(within_days + 1):
        day = today + timedelta(days=offset)
        keys.append(birthday_key(day))
        if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
            keys.append(229)
    return list(dict.fromkeys(keys))  # a window of a whole year meets its first day again


def next_birthday(born: date, today: date) -> date:
    """The next day (today included) on which ``born`` is celebrated."""
    for year in (today.year, today.year + 1):
        day = _celebrated(born, year)
        if day >= today:
            return day
    raise AssertionError("unreachable: a birthday comes within a year")


def _celebrated(born: date, year: int) -> date:
    if born.month == 2 and born.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return date(year, born.month, born.day)
