"""Exfiltration detectors at their edges: thresholds, windows, time zones, baselines."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from services.projections.detect.detectors import (
    Alert,
    DetectorConfig,
    EmployeeContext,
    detect_breadth,
    detect_bulk_export,
    detect_enumeration,
    detect_low_and_slow,
    detect_no_business_reason,
    detect_notice_activity,
    detect_off_hours,
    detect_volume_spike,
    run_all,
)
from tests.support.detector_log import (
    MONDAY,
    SURNAMES,
    Log,
    context,
    moment,
    normal_history,
    notice_activity,
    only,
    own,
    stranger,
    team,
    volume_spike,
)


def _count(
    detect: Callable[..., list[Alert]], log: Log, ctx: EmployeeContext | None = None, **kwargs: Any
) -> int:
    return len(detect(log.items, ctx or context(), DetectorConfig(), **kwargs))


@pytest.mark.parametrize(("customers", "alerts"), [(60, 0), (61, 1)])
def test_breadth_alerts_only_above_the_threshold_within_an_hour(
    customers: int, alerts: int
) -> None:
    log = Log()
    log.views(moment(0, 10), [own(n) for n in range(customers)], timedelta(seconds=55))
    assert _count(detect_breadth, log) == alerts


def test_breadth_spread_over_a_shift_is_quiet() -> None:
    log = Log()
    log.views(moment(0, 9), [own(n) for n in range(100)], timedelta(minutes=5))
    assert _count(detect_breadth, log) == 0


def test_a_long_burst_raises_one_breadth_alert_per_window() -> None:
    log = Log()
    log.views(moment(0, 10), [own(n) for n in range(250)], timedelta(seconds=20))
    starts = [a.window_start for a in detect_breadth(log.items, context())]
    assert starts == [moment(0, 10), moment(0, 11)]


@pytest.mark.parametrize(("exports", "alerts"), [(5, 0), (6, 1)])
def test_bulk_export_alerts_above_five_a_day(exports: int, alerts: int) -> None:
    log = Log()
    log.views(
        moment(0, 10), [own(n) for n in range(exports)], timedelta(hours=1), "customer.export"
    )
    assert _count(detect_bulk_export, log) == alerts


def test_exports_on_separate_days_are_not_bulk() -> None:
    log = Log()
    for day in range(8):
        log.add("customer.export", moment(day, 12), [own(day)])
    assert _count(detect_bulk_export, log) == 0


@pytest.mark.parametrize(("accesses", "alerts"), [(10, 0), (11, 1)])
def test_off_hours_alerts_above_ten_in_a_night(accesses: int, alerts: int) -> None:
    log = Log()
    log.views(moment(0, 23), [own(n) for n in range(accesses)], timedelta(minutes=10))
    assert _count(detect_off_hours, log, context(work_hours=(8, 20))) == alerts


def test_off_hours_uses_the_employees_own_time_zone() -> None:
    log = Log()  # 21:00-22:50 in Moscow is 18:00-19:50 in London
    log.views(moment(0, 21), [own(n) for n in range(12)], timedelta(minutes=10))
    day = (8, 20)
    assert _count(detect_off_hours, log, context(timezone="Europe/Moscow", work_hours=day)) == 1
    assert _count(detect_off_hours, log, context(timezone="Europe/London", work_hours=day)) == 0


def test_a_night_shift_at_night_is_within_its_hours() -> None:
    log = Log()
    log.views(moment(0, 22), [own(n) for n in range(30)], timedelta(minutes=10))
    assert _count(detect_off_hours, log, context(work_hours=(20, 8))) == 0


def test_accesses_on_two_nights_are_counted_per_night() -> None:
    log = Log()
    log.views(moment(0, 21), [own(n) for n in range(6)], timedelta(minutes=10))
    log.views(moment(1, 21), [own(n) for n in range(6)], timedelta(minutes=10))
    assert _count(detect_off_hours, log, context(work_hours=(8, 20))) == 0


def test_no_business_reason_needs_a_fifth_of_the_day_to_be_strangers() -> None:
    log = Log()
    log.views(moment(0, 9), [own(n) for n in range(120)], timedelta(minutes=3))
    log.views(moment(0, 16), [stranger(n) for n in range(25)], timedelta(minutes=5))
    assert _count(detect_no_business_reason, log) == 0


def test_forty_strangers_hidden_in_a_day_of_ordinary_work_are_caught() -> None:
    log = normal_history(14)
    day = moment(14, 9)
    for n in range(60):  # the day's own customers, with forty strangers in between
        log.views(day + timedelta(minutes=8 * n), [own(n)], timedelta(0))
        if n < 40:
            log.views(day + timedelta(minutes=8 * n + 3), [stranger(900 + n)], timedelta(0))
    [alert] = detect_no_business_reason(log.items, context())
    assert alert.evidence["without_reason"] == 40 and alert.evidence["customers_viewed"] >= 100


def test_search_lists_request_lists_and_reports_need_a_reason_too() -> None:
    log = Log()
    for n in range(25):
        log.add("customer.search", moment(0, 10, n), [stranger(10 * n + k) for k in range(2)], f"Фамилия{n}")
    log.add("report.dormant", moment(0, 12), [stranger(1000 + n) for n in range(10)])
    [alert] = detect_no_business_reason(log.items, context())
    assert alert.evidence["without_reason"] == 60


def test_a_few_lookups_for_colleagues_have_no_alert() -> None:
    log = Log()
    log.views(moment(0, 9), [stranger(n) for n in range(15)], timedelta(minutes=5))
    assert _count(detect_no_business_reason, log) == 0


def test_low_and_slow_stays_quiet_at_exactly_the_threshold() -> None:
    log = Log()
    for day in range(30):
        log.views(
            moment(day, 12), [stranger(4 * day + n) for n in range(4)], timedelta(minutes=15)
        )
    assert _count(detect_low_and_slow, log) == 0  # 4 a day: 120 in 30 days, the threshold


def test_a_steady_harvest_is_reported_once_per_window_not_daily() -> None:
    log = Log()
    for day in range(70):
        log.views(
            moment(day, 12), [stranger(15 * day + n) for n in range(15)], timedelta(minutes=15)
        )
    starts = [a.window_start for a in detect_low_and_slow(log.items, context())]
    # 15 a day passes 120 on the 9th day; then once per further 30-day window.
    assert starts == [moment(8 - 29, 0), moment(38 - 29, 0), moment(68 - 29, 0)]


def test_a_team_wide_surge_is_not_a_volume_spike() -> None:
    accesses, ctx, _ = volume_spike()
    surge = {peer: {**days, MONDAY + timedelta(days=14): 140} for peer, days in team(15).items()}
    assert detect_volume_spike(accesses, ctx, peers=surge) == []


def test_a_new_employee_without_baseline_or_peers_has_no_volume_verdict() -> None:
    log = Log()
    log.views(moment(0, 9), [own(n) for n in range(150)], timedelta(minutes=3))
    assert _count(detect_volume_spike, log) == 0


def test_a_busier_day_within_the_usual_spread_is_no_spike() -> None:
    log = normal_history(14)
    log.views(moment(14, 9), [own(n) for n in range(60)], timedelta(minutes=8))
    assert _count(detect_volume_spike, log, peers=team(15)) == 0


@pytest.mark.parametrize(
    ("queries", "signals"),
    [
        (list("абвгдеёжзийклмноп"), ["sequential_run", "prefix_searches"]),
        (["aa", "ab", "ac", "ad", "ae", "af", "ag", "ah"], ["sequential_run"]),
        (["ая", "ба", "бб", "бв", "бг", "бд", "бе"], ["sequential_run"]),
        ([f"{n * 37 % 100:02d}" for n in range(16)], ["prefix_searches"]),
        ([f"{q} {n}" for n in range(61) for q in ["Иванова"]], ["searches"]),
    ],
    ids=["cyrillic letters", "latin pairs", "cyrillic carry", "digit prefixes", "volume"],
)
def test_enumeration_recognises_each_signal(queries: list[str], signals: list[str]) -> None:
    log = Log()
    log.searches(moment(0, 10), queries, timedelta(seconds=15))
    alert = only(detect_enumeration(log.items, context()), "enumeration")
    assert alert.evidence["signals"] == signals


@pytest.mark.parametrize(
    ("queries", "every"),
    [
        ([f"+7 912 000-00-{n:02d}" for n in range(1, 7)], timedelta(seconds=20)),
        ([f"+7 912 000-00-{n:02d}" for n in range(1, 11)], timedelta(minutes=6)),
        (SURNAMES * 2, timedelta(seconds=30)),
        (["Ирина", "Ирину", "Иринa", "Иван", "Ивана", "Ивану", "Иваны"], timedelta(seconds=30)),
    ],
    ids=["short run", "run with long pauses", "names", "name forms"],
)
def test_ordinary_searching_is_not_enumeration(queries: list[str], every: timedelta) -> None:
    log = Log()
    log.searches(moment(0, 10), queries, every)
    assert _count(detect_enumeration, log) == 0


def test_notice_activity_needs_notice_given() -> None:
    accesses, _, peers = notice_activity()
    assert detect_notice_activity(accesses, context(), peers=peers) == []


def test_a_departing_employees_ordinary_days_raise_nothing() -> None:
    log = normal_history(20)
    ctx = context(status="notice_given", notice_given_at=moment(14, 10))
    assert run_all(log.items, ctx, peers=team(20)) == []


def test_notice_baseline_falls_back_to_the_team_for_a_new_hire() -> None:
    log = Log()
    log.views(moment(6, 9), [own(n) for n in range(90)], timedelta(minutes=5))
    ctx = context(status="notice_given", notice_given_at=moment(5, 10))
    alert = only(detect_notice_activity(log.items, ctx, peers=team(7)), "notice_activity")
    assert alert.evidence["baseline"]["source"] == "peers"


# --- ids, escalation, plumbing -------------------------------------------------------------
