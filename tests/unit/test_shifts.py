"""Shifts and baselines of the off-hours detector: schedules (rotas, weekly hours, night shifts,
time zones, DST), the employee's own usual hours, and a new employee's team."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from events.schedule import parse
from services.projections.detect.detectors import (
    DEFAULT_CONFIG,
    Access,
    EmployeeContext,
    daily_distinct_counts,
    detect_off_hours,
)

MOSCOW, BERLIN = ZoneInfo("Europe/Moscow"), ZoneInfo("Europe/Berlin")
EMP = "emp-7"
START = date(2026, 3, 2)  # a Monday


def local(day: date, hour: int, minute: int = 0, zone: ZoneInfo = MOSCOW) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


def views(first: datetime, n: int, step: timedelta = timedelta(minutes=5)) -> list[Access]:
    return [Access(EMP, "customer.card", (f"c-{first:%d%H}-{k}",), first + k * step) for k in range(n)]


def ctx(**changes) -> EmployeeContext:
    return EmployeeContext(**{"employee_id": EMP, "team": "night", **changes})


@pytest.mark.parametrize(("moment", "on"), [
    (local(date(2026, 3, 1), 21), True),    # day 1 of the cycle, evening
    (local(date(2026, 3, 2), 3), True),     # the same night shift, after midnight
    (local(date(2026, 3, 2), 21), True),    # day 2
    (local(date(2026, 3, 3), 7, 59), True),  # day 2's shift ends at 08:00
    (local(date(2026, 3, 3), 21), False),   # days 3 and 4 are off
    (local(date(2026, 3, 4), 3), False),
    (local(date(2026, 3, 5), 21), True),    # the cycle starts again
    (local(date(2026, 3, 2), 12), False),   # a night worker at noon
])
def test_a_2_2_night_rota_crosses_midnight_and_counts_its_cycle(moment, on):
    rota = parse("2/2 20:00-08:00 from 2026-03-01 Europe/Moscow")
    assert rota.on_shift(moment) is on


def test_a_rota_without_a_start_counts_from_when_it_took_effect():
    rota = parse("2/2 08:00-20:00 Europe/Moscow")
    assert rota.on_shift(local(date(2026, 3, 10), 9), effective=date(2026, 3, 10))
    assert not rota.on_shift(local(date(2026, 3, 12), 9), effective=date(2026, 3, 10))
    assert not rota.on_shift(local(date(2026, 3, 9), 9), effective=date(2026, 3, 10))


def test_weekly_hours_by_day_with_a_grace_either_side():
    week = parse("Mon-Fri 09:00-18:00, Sat 10:00-14:00 Europe/Moscow")
    assert week.on_shift(local(START, 9)) and not week.on_shift(local(START, 8, 50))
    assert week.on_shift(local(START, 8, 50), grace=timedelta(minutes=15))
    saturday = START + timedelta(days=5)
    assert week.on_shift(local(saturday, 13)) and not week.on_shift(local(saturday, 15))
    assert not week.on_shift(local(START + timedelta(days=6), 12))  # Sunday


@pytest.mark.parametrize(("night", "utc_end"), [
    (date(2026, 3, 28), datetime(2026, 3, 29, 6, 0, tzinfo=UTC)),   # spring forward: 11 hours
    (date(2026, 10, 24), datetime(2026, 10, 25, 7, 0, tzinfo=UTC)),  # fall back: 13 hours
])
def test_a_night_shift_over_a_dst_change_ends_at_the_wall_clock_time(night, utc_end):
    shift = parse("Mon-Sun 20:00-08:00 Europe/Berlin")
    assert shift.on_shift(utc_end - timedelta(minutes=1))
    assert not shift.on_shift(utc_end)
    begin = local(night, 20, zone=BERLIN)
    assert shift.on_shift(begin) and (utc_end - begin).total_seconds() / 3600 in (11, 13)


@pytest.mark.parametrize("text", ["2/2 08:00-20:00", "2/2 08:00-20:00 Mars/Olympus", "Mon-Fri 9-18 Europe/Moscow",
                                  "0/2 08:00-20:00 Europe/Moscow", "Xyz 09:00-18:00 Europe/Moscow",
                                  "Mon-Fri 09:00-25:00 Europe/Moscow", "Mon-Fri 09:00-18:00 America"])
def test_an_unreadable_schedule_says_why(text):
    with pytest.raises(ValueError):
        parse(text)


def test_a_night_rota_reading_at_night_raises_nothing_and_on_a_day_off_an_alert():
    schedule = "2/2 20:00-08:00 from 2026-03-01 Europe/Moscow"
    at_work = views(local(date(2026, 3, 2), 2), 30)
    assert detect_off_hours(at_work, ctx(schedule=schedule)) == []
    day_off = views(local(date(2026, 3, 4), 2), 30)
    [alert] = detect_off_hours(day_off, ctx(schedule=schedule))
    assert alert.evidence["basis"] == "schedule" and alert.evidence["accesses"] == 30


def _evenings(days: int, hour: int) -> list[Access]:
    return [a for d in range(days) for a in views(local(START + timedelta(days=d), hour), 12, timedelta(minutes=15))]


def test_without_a_schedule_the_own_history_is_the_normal():
    history = _evenings(10, 19)  # an agent who always works 19:00-22:00
    evening = views(local(START + timedelta(days=10), 20), 30)
    assert detect_off_hours(history + evening, ctx()) == []
    morning = views(local(START + timedelta(days=10), 5), 30)
    [alert] = detect_off_hours(history + morning, ctx())
    assert alert.evidence["basis"] == "own_history"


def test_a_new_employee_is_compared_with_the_team_never_a_fixed_day():
    first_evening = views(local(START, 21), 30)
    evening_team = {h: 40 for h in range(18, 24)}
    assert detect_off_hours(first_evening, ctx(team_hours=evening_team, team_days=40)) == []
    day_team = {h: 40 for h in range(9, 18)}
    assert len(detect_off_hours(first_evening, ctx(team_hours=day_team, team_days=40))) == 1
    assert detect_off_hours(first_evening, ctx()) == []  # no team, no history: nothing to judge by


def test_a_night_shift_is_one_working_day_not_two_halves():
    night = ctx(schedule="Mon-Sun 20:00-08:00 Europe/Moscow")
    assert night.day_start == 14 and ctx(schedule="Mon-Fri 09:00-18:00 Europe/Moscow").day_start == 0
    shift = views(local(START, 21), 30, timedelta(minutes=20))  # 21:00 to 06:40 the next morning
    assert list(daily_distinct_counts(shift, night, DEFAULT_CONFIG).values()) == [30]
    assert list(daily_distinct_counts(shift, ctx(), DEFAULT_CONFIG).values()) == [9, 21]


def test_without_a_schedule_a_night_team_cuts_its_days_where_it_is_quietest():
    night_team = {h: 30 for h in (*range(20, 24), *range(0, 8))} | {13: 1}
    assert ctx(team_hours=night_team, team_days=30).day_start == 8  # the first hour nobody works
    day_team = {h: 30 for h in range(9, 18)}
    assert ctx(team_hours=day_team, team_days=30).day_start == 0
