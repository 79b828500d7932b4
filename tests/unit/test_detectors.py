"""Exfiltration detectors: a normal agent raises nothing, each scenario raises its own kind."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from events.catalog import AccessAction
from services.projections.detect.detectors import (
    DETECTORS,
    Access,
    Alert,
    DetectorConfig,
    EmployeeContext,
    Kind,
    PeerCounts,
    alert_id,
    daily_distinct_counts,
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
        moment(14, 20),
        {"accesses": 12, "first_local": "22:00", "last_local": "01:40"},
    ),
    (
        "enumeration",
        enumeration,
        moment(14, 11),
        {"sequential_run": 10, "searches": 10, "signals": ["sequential_run"]},
    ),
    ("bulk_export", bulk_export, moment(14, 0), {"exports": 6, "distinct_customers": 6}),
    ("notice_activity", notice_activity, moment(15, 0), {"distinct_customers": 90}),
    ("low_and_slow", low_and_slow, moment(25 - 29, 0), {"without_reason": 312, "max_per_day": 12}),
]


def _only(alerts: list[Alert], kind: Kind) -> Alert:
    assert [a.kind for a in alerts] == [kind], alerts
    return alerts[0]


# --- a normal agent ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(DETECTORS))
def test_a_normal_agent_month_raises_nothing(kind: Kind) -> None:
    log = normal_history(30)
    assert DETECTORS[kind](log.items, context(), DetectorConfig(), peers=team(30)) == []


def test_run_all_over_a_normal_agent_month_raises_nothing() -> None:
    assert run_all(normal_history(30).items, context(), peers=team(30)) == []


# --- each scenario raises its kind ---------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "scenario", "start", "expected"),
    POSITIVE,
    ids=[f"{k}-{n}" for n, (k, *_) in enumerate(POSITIVE)],
)
def test_each_scenario_raises_its_kind_with_evidence(
    kind: Kind, scenario: Callable[[], Scenario], start: datetime, expected: dict[str, Any]
) -> None:
    accesses, ctx, peers = scenario()
    alert = _only(DETECTORS[kind](accesses, ctx, DetectorConfig(), peers=peers), kind)
    assert alert.employee_id == EMP and alert.window_start == start
    assert {key: alert.evidence[key] for key in expected} == expected
    assert 0.5 <= alert.score <= 1 and alert.window_end > alert.window_start
    assert 1 <= len(alert.evidence["sample_customer_ids"]) <= 10
    json.dumps(alert.evidence)  # evidence travels on Kafka as JSON


def test_volume_spike_evidence_holds_both_baselines() -> None:
    accesses, ctx, peers = volume_spike()
    alert = _only(detect_volume_spike(accesses, ctx, peers=peers), "volume_spike")
    assert alert.evidence["baseline"]["days"] == 14
    assert 38 <= alert.evidence["baseline"]["median"] <= 46
    assert alert.evidence["peer_baseline"]["median"] == 39.5
    assert alert.evidence["peer_baseline"]["team"] == "retail"
    assert (alert.severity, alert.score) == ("medium", 0.6708)  # 150 against a limit of 98.75


def test_enumeration_alert_samples_the_queries_in_order() -> None:
    accesses, ctx, _ = enumeration()
    alert = _only(detect_enumeration(accesses, ctx), "enumeration")
    assert alert.evidence["sample_queries"][:2] == ["+7 912 000-00-01", "+7 912 000-00-02"]


def test_notice_activity_is_at_least_high_and_compares_to_pre_notice_days() -> None:
    accesses, ctx, peers = notice_activity()
    alert = _only(detect_notice_activity(accesses, ctx, peers=peers), "notice_activity")
    assert alert.severity in {"high", "critical"}
    assert alert.evidence["baseline"]["source"] == "own"
    assert alert.evidence["notice_given_at"] == "2024-03-18T07:00:00Z"


def test_low_and_slow_fires_when_no_single_day_does() -> None:
    accesses, ctx, peers = low_and_slow()
    kinds = [a.kind for a in run_all(accesses, ctx, peers=peers)]
    assert kinds == ["low_and_slow"]


# --- thresholds and look-alikes that must stay quiet ---------------------------------------


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
    assert _count(detect_off_hours, log) == alerts


def test_off_hours_uses_the_employees_own_time_zone() -> None:
    log = Log()  # 21:00-22:50 in Moscow is 18:00-19:50 in London
    log.views(moment(0, 21), [own(n) for n in range(12)], timedelta(minutes=10))
    assert _count(detect_off_hours, log, context(timezone="Europe/Moscow")) == 1
    assert _count(detect_off_hours, log, context(timezone="Europe/London")) == 0


def test_a_night_shift_at_night_is_within_its_hours() -> None:
    log = Log()
    log.views(moment(0, 22), [own(n) for n in range(30)], timedelta(minutes=10))
    assert _count(detect_off_hours, log, context(work_hours=(20, 8))) == 0


def test_accesses_on_two_nights_are_counted_per_night() -> None:
    log = Log()
    log.views(moment(0, 21), [own(n) for n in range(6)], timedelta(minutes=10))
    log.views(moment(1, 21), [own(n) for n in range(6)], timedelta(minutes=10))
    assert _count(detect_off_hours, log) == 0


def test_no_business_reason_needs_a_majority_of_strangers() -> None:
    log = Log()
    log.views(moment(0, 9), [own(n) for n in range(40)], timedelta(minutes=5))
    log.views(moment(0, 10), [stranger(n) for n in range(25)], timedelta(minutes=5))
    assert _count(detect_no_business_reason, log) == 0


def test_a_few_lookups_for_colleagues_have_no_alert() -> None:
    log = Log()
    log.views(moment(0, 9), [stranger(n) for n in range(15)], timedelta(minutes=5))
    assert _count(detect_no_business_reason, log) == 0


def test_low_and_slow_stays_quiet_at_exactly_the_threshold() -> None:
    log = Log()
    for day in range(30):
        log.views(
            moment(day, 12), [stranger(10 * day + n) for n in range(10)], timedelta(minutes=15)
        )
    assert _count(detect_low_and_slow, log) == 0


def test_a_steady_harvest_is_reported_once_per_window_not_daily() -> None:
    log = Log()
    for day in range(70):
        log.views(
            moment(day, 12), [stranger(15 * day + n) for n in range(15)], timedelta(minutes=15)
        )
    starts = [a.window_start for a in detect_low_and_slow(log.items, context())]
    assert starts == [moment(20 - 29, 0), moment(50 - 29, 0)]


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
    alert = _only(detect_enumeration(log.items, context()), "enumeration")
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
    alert = _only(detect_notice_activity(log.items, ctx, peers=team(7)), "notice_activity")
    assert alert.evidence["baseline"]["source"] == "peers"


# --- ids, escalation, plumbing -------------------------------------------------------------


def test_alert_ids_are_deterministic_from_employee_kind_and_window() -> None:
    accesses, ctx, peers = breadth()
    first, second = run_all(accesses, ctx, peers=peers), run_all(accesses, ctx, peers=peers)
    assert [a.id for a in first] == [a.id for a in second]
    assert first[0].id == alert_id(EMP, "breadth", moment(14, 10))
    assert alert_id(EMP, "breadth", moment(14, 10)) != alert_id(EMP, "off_hours", moment(14, 10))


def test_replaying_over_a_longer_history_keeps_the_earlier_alert_id() -> None:
    accesses, ctx, _ = volume_spike()
    later = normal_history(20, seed=7).items[len(normal_history(14).items) :]
    before = detect_volume_spike(accesses, ctx, peers=team(21))
    after = detect_volume_spike(accesses + later, ctx, peers=team(21))
    assert [a.id for a in before] == [a.id for a in after] and len(after) == 1


def test_alerts_after_notice_are_one_severity_higher() -> None:
    accesses, ctx, peers = breadth()
    plain = _only(detect_breadth(accesses, ctx), "breadth")
    leaving = context(status="notice_given", notice_given_at=moment(13, 12))
    raised = _only(detect_breadth(accesses, leaving), "breadth")
    order = ["low", "medium", "high", "critical"]
    assert order.index(raised.severity) == order.index(plain.severity) + 1


def test_evidence_points_at_the_kafka_offsets_of_the_accesses() -> None:
    accesses, ctx, _ = bulk_export()
    alert = _only(detect_bulk_export(accesses, ctx), "bulk_export")
    exported = [a.offset for a in accesses if a.action == "customer.export" and a.at.day == 18]
    assert len(exported) == 6 and None not in exported
    assert alert.evidence["offsets"] == exported
    assert alert.evidence["offset_range"] == [exported[0], exported[-1]]


def test_run_all_ignores_other_employees_and_can_select_kinds() -> None:
    accesses, ctx, peers = breadth()
    theirs = [Access("emp-99", a.action, a.customer_ids, a.at) for a in accesses]
    assert run_all(theirs, ctx, peers=peers) == []
    assert run_all(accesses, ctx, peers=peers, kinds={"off_hours"}) == []
    assert [a.kind for a in run_all(accesses, ctx, peers=peers, kinds={"breadth"})] == ["breadth"]


def test_daily_distinct_counts_feed_the_peer_baseline() -> None:
    log = Log()
    log.views(moment(0, 10), [own(1), own(2), own(1)], timedelta(minutes=1))
    log.add("customer.search", moment(0, 11), [own(3), own(4)], "Петров")
    log.add("customer.card", moment(0, 23, 30), [own(5)])  # 20:30 UTC, still the local day
    assert daily_distinct_counts(log.items, context(), DetectorConfig()) == {MONDAY: 3}


def test_naive_times_and_unknown_zones_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Access(EMP, "customer.card", ("c",), datetime(2024, 3, 4, 10))
    with pytest.raises(ValueError, match="time zone"):
        context(timezone="Mars/Olympus")
    assert Access(EMP, "customer.card", ["c"], moment(0, 1)).customer_ids == ("c",)  # type: ignore[arg-type]


def test_config_is_frozen_and_validated() -> None:
    cfg = DetectorConfig(breadth_threshold=100)
    assert cfg.breadth_threshold == 100 and DetectorConfig().breadth_threshold == 60
    with pytest.raises(ValueError):
        DetectorConfig(breadth_threshold=0)
    with pytest.raises(ValueError):
        cfg.breadth_threshold = 5  # type: ignore[misc]
