"""A volume spike under the team's bar: a low-volume agent's or a new hire's day far above
their normal in customers they have no business reason for, against the same rise in their
own customers (covering for a colleague), which stays quiet."""

from __future__ import annotations

import random
from datetime import timedelta

from services.projections.detect.detectors import detect_volume_spike
from tests.support.detector_log import (
    Log,
    context,
    moment,
    normal_day,
    normal_history,
    only,
    own,
    stranger,
    team,
)

BUSY_TEAM = 100  # the peers read ~100 customers a day: 2.5x is 250, far above this agent's day


def _day_14(log: Log, extra: list[str]) -> Log:
    normal_day(log, 14, random.Random(14))
    log.views(moment(14, 10), extra, timedelta(minutes=4))
    return log


def test_a_quiet_agents_spike_of_strangers_is_caught_under_the_teams_bar() -> None:
    log = _day_14(normal_history(14), [stranger(1000 + n) for n in range(80)])
    alert = only(detect_volume_spike(log.items, context(), peers=team(15, BUSY_TEAM)),
                 "volume_spike")
    assert alert.evidence["distinct_customers"] < 2.5 * BUSY_TEAM
    assert alert.evidence["customers_without_reason"] >= 80
    assert alert.evidence["allowed_without_reason"] < 80


def test_the_same_rise_in_own_customers_is_covering_not_a_spike() -> None:
    log = _day_14(normal_history(14), [own(1000 + n) for n in range(80)])
    assert detect_volume_spike(log.items, context(), peers=team(15, BUSY_TEAM)) == []


def test_a_new_hires_spike_is_judged_against_the_teams_normal_day() -> None:
    caught = _day_14(Log(), [stranger(1000 + n) for n in range(80)])
    alert = only(detect_volume_spike(caught.items, context(), peers=team(15)), "volume_spike")
    assert alert.evidence["baseline"] is None and alert.evidence["peer_baseline"]["median"] < 45
    busy = _day_14(Log(), [own(1000 + n) for n in range(80)])  # their first, busy day
    assert detect_volume_spike(busy.items, context(), peers=team(15)) == []
