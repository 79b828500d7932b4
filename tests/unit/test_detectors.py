"""Exfiltration detectors: a normal agent raises nothing, each scenario raises its own kind."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from services.projections.detect.detectors import (
    DETECTORS,
    Access,
    DetectorConfig,
    Kind,
    alert_id,
    daily_distinct_counts,
    detect_breadth,
    detect_bulk_export,
    detect_enumeration,
    detect_notice_activity,
    detect_volume_spike,
    run_all,
)
from tests.support.detector_log import (
    EMP,
    MONDAY,
    POSITIVE,
    Log,
    Scenario,
    breadth,
    bulk_export,
    context,
    enumeration,
    low_and_slow,
    moment,
    normal_history,
    notice_activity,
    only,
    own,
    team,
    volume_spike,
)

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
    alert = only(DETECTORS[kind](accesses, ctx, DetectorConfig(), peers=peers), kind)
    assert alert.employee_id == EMP and alert.window_start == start
    assert {key: alert.evidence[key] for key in expected} == expected
    assert 0.5 <= alert.score <= 1 and alert.window_end > alert.window_start
    assert 1 <= len(alert.evidence["sample_customer_ids"]) <= 10
    json.dumps(alert.evidence)  # evidence travels on Kafka as JSON


def test_volume_spike_evidence_holds_both_baselines() -> None:
    accesses, ctx, peers = volume_spike()
    alert = only(detect_volume_spike(accesses, ctx, peers=peers), "volume_spike")
    assert alert.evidence["baseline"]["days"] == 14
    assert 38 <= alert.evidence["baseline"]["median"] <= 46
    assert alert.evidence["peer_baseline"]["median"] == 39.5
    assert alert.evidence["peer_baseline"]["team"] == "retail"
    assert (alert.severity, alert.score) == ("medium", 0.6708)  # 150 against a limit of 98.75


def test_enumeration_alert_samples_the_queries_in_order() -> None:
    accesses, ctx, _ = enumeration()
    alert = only(detect_enumeration(accesses, ctx), "enumeration")
    assert alert.evidence["sample_queries"][:2] == ["+7 912 000-00-01", "+7 912 000-00-02"]


def test_notice_activity_is_at_least_high_and_compares_to_pre_notice_days() -> None:
    accesses, ctx, peers = notice_activity()
    alert = only(detect_notice_activity(accesses, ctx, peers=peers), "notice_activity")
    assert alert.severity in {"high", "critical"}
    assert alert.evidence["baseline"]["source"] == "own"
    assert alert.evidence["notice_given_at"] == "2024-03-18T07:00:00Z"


def test_low_and_slow_fires_when_no_single_day_does() -> None:
    accesses, ctx, peers = low_and_slow()
    kinds = [a.kind for a in run_all(accesses, ctx, peers=peers)]
    assert kinds == ["low_and_slow"]


# --- thresholds and look-alikes that must stay quiet ---------------------------------------



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
    plain = only(detect_breadth(accesses, ctx), "breadth")
    leaving = context(status="notice_given", notice_given_at=moment(13, 12))
    raised = only(detect_breadth(accesses, leaving), "breadth")
    order = ["low", "medium", "high", "critical"]
    assert order.index(raised.severity) == order.index(plain.severity) + 1


def test_evidence_points_at_the_kafka_offsets_of_the_accesses() -> None:
    accesses, ctx, _ = bulk_export()
    alert = only(detect_bulk_export(accesses, ctx), "bulk_export")
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
