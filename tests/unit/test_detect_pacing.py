"""When the detect worker evaluates an employee again: never sooner than the base interval,
later for a costly evaluation, but never later than the cap."""

from __future__ import annotations

import pytest

from services.projections.detect.pacing import Pacing, Schedule


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("duration_s", "interval_s"),
    [(0.0, 1.0), (0.05, 1.0), (0.1, 1.5), (1.0, 15.0), (2.0, 30.0), (60.0, 30.0)],
)
def test_the_interval_grows_with_the_cost_of_the_last_evaluation_up_to_the_cap(
    duration_s: float, interval_s: float
) -> None:
    pacing = Pacing(every_s=1.0, cost_factor=15.0, max_interval_s=30.0)
    assert pacing.interval(duration_s) == pytest.approx(interval_s)


def test_a_base_interval_above_the_cap_still_holds() -> None:
    assert Pacing(every_s=3600.0, max_interval_s=30.0).interval(0.01) == 3600.0
    assert Pacing(every_s=3600.0, max_interval_s=30.0).interval(100.0) == 3600.0


def test_an_employee_never_evaluated_is_due_at_once() -> None:
    assert Schedule(Pacing(), Clock()).due({"emp-1", "emp-2"}) == {"emp-1", "emp-2"}


def test_a_cheap_evaluation_is_due_again_after_the_base_interval() -> None:
    clock = Clock()
    schedule = Schedule(Pacing(every_s=1.0, cost_factor=15.0), clock)
    schedule.evaluated({"emp-1": 0.01})
    clock.now += 0.75
    assert schedule.due({"emp-1"}) == set()
    clock.now += 0.25
    assert schedule.due({"emp-1"}) == {"emp-1"}


def test_a_costly_evaluation_defers_only_its_own_employee() -> None:
    clock = Clock()
    schedule = Schedule(Pacing(every_s=1.0, cost_factor=16.0, max_interval_s=30.0), clock)
    schedule.evaluated({"heavy": 0.5, "light": 0.015625})
    clock.now += 1.0
    assert schedule.due({"heavy", "light"}) == {"light"}
    clock.now += 6.75
    assert schedule.due({"heavy"}) == set()
    clock.now += 0.25  # 16 x 0.5 s after the evaluation ended
    assert schedule.due({"heavy"}) == {"heavy"}


def test_even_the_costliest_evaluation_is_due_again_after_the_cap() -> None:
    clock = Clock()
    schedule = Schedule(Pacing(every_s=1.0, cost_factor=15.0, max_interval_s=30.0), clock)
    schedule.evaluated({"heavy": 45.0})
    clock.now += 29.75
    assert schedule.due({"heavy"}) == set()
    clock.now += 0.25
    assert schedule.due({"heavy"}) == {"heavy"}


def test_the_latest_evaluation_sets_the_pace() -> None:
    clock = Clock()
    schedule = Schedule(Pacing(every_s=1.0, cost_factor=10.0, max_interval_s=30.0), clock)
    schedule.evaluated({"emp-1": 2.0})
    clock.now += 20.0
    schedule.evaluated({"emp-1": 0.05})  # e.g. after the history was pruned
    clock.now += 1.0
    assert schedule.due({"emp-1"}) == {"emp-1"}


def test_forgotten_employees_are_due_at_once_and_waiting_ones_are_kept() -> None:
    clock = Clock()
    schedule = Schedule(Pacing(every_s=1.0, cost_factor=10.0, max_interval_s=30.0), clock)
    schedule.evaluated({f"emp-{n}": 0.0 for n in range(100_000)})
    clock.now += 1.0
    schedule.evaluated({"heavy": 2.0, "new": 0.0})  # over the limit: the due ones are dropped
    assert len(schedule) == 2
    assert schedule.due({"emp-7", "heavy", "new"}) == {"emp-7"}
