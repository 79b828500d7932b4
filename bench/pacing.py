"""Paced locust users from random phases: a steady offered rate, not one burst per period."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def paced(rate: float, clock: Callable[[], float] = time.monotonic) -> Callable[[Any], float]:
    """A locust ``wait_time``: a task every ``1 / rate`` seconds per user, from ``user.due``.

    Locust's ``constant_throughput`` keeps the phase of each user's creation, and a spawn step
    creates all of them at once (``-r`` equals ``-u``): the freshness phase's 60 users at 200/s
    offered one burst of 60 every 300 ms, not a steady rate. The user sets ``due`` when its first
    task starts, after a random share of a period; a late answer starts the next task at once.
    """
    period = 1 / rate

    def wait(user: Any) -> float:
        now = clock()
        user.due = max(user.due + period, now)
        return float(user.due - now)

    return wait
