"""The freshness load's pacing: each user keeps its own phase, one task per period."""

from types import SimpleNamespace

from bench.pacing import paced


def test_a_user_waits_out_the_rest_of_its_period_from_its_own_phase() -> None:
    now = [10.0]
    wait = paced(4.0, lambda: now[0])  # 250 ms
    user = SimpleNamespace(due=10.0)
    now[0] = 10.03  # the task took 30 ms
    assert round(wait(user), 6) == 0.22
    now[0] = 10.25 + 0.1
    assert round(wait(user), 6) == 0.15  # due at 10.5, whatever the last task took


def test_a_late_answer_starts_the_next_task_at_once_and_shifts_the_phase() -> None:
    now = [0.0]
    wait = paced(10.0, lambda: now[0])  # 100 ms
    user = SimpleNamespace(due=0.0)
    now[0] = 0.35
    assert wait(user) == 0.0
    now[0] = 0.36
    assert round(wait(user), 6) == 0.09  # due at 0.45: counted from the late start, no catch-up burst


def test_two_users_started_apart_stay_apart() -> None:
    now = [0.0]
    wait = paced(5.0, lambda: now[0])
    early, late = SimpleNamespace(due=0.0), SimpleNamespace(due=0.07)
    now[0] = 0.1
    assert round(wait(early), 6) == 0.1 and round(wait(late), 6) == 0.17
