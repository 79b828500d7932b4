"""When an employee's next evaluation is due: a cost-aware minimum interval.

An evaluation reads and scans the employee's whole look-back, so its cost grows with their
history: a heavy reader (tens of thousands of accesses) costs seconds per evaluation, and at
the base interval of a second the detect worker would spend whole cores on one employee. So
an employee is due again only after ``cost_factor`` times the duration of their last
evaluation (at most ``1 / (cost_factor + 1)`` of a core per employee), but never later than
``max_interval_s`` after it (their alerts still come out within about that), and never
sooner than ``every_s``. Deferring changes only *when* the accesses of the meantime are
evaluated: the worker keeps them pending, and marked, until then.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

EVERY_S = 1.0
COST_FACTOR = 15.0
MAX_INTERVAL_S = 30.0


@dataclass(frozen=True)
class Pacing:
    every_s: float = EVERY_S
    cost_factor: float = COST_FACTOR
    max_interval_s: float = MAX_INTERVAL_S

    def interval(self, duration_s: float) -> float:
        """Seconds from the end of an evaluation that took ``duration_s`` to the next one."""
        # The cap bounds the cost-based part only: a base interval above it still holds.
        return max(self.every_s, min(self.cost_factor * duration_s, self.max_interval_s))


@dataclass
class Schedule:
    """When each recently evaluated employee is next due (others are due at once)."""

    pacing: Pacing = field(default_factory=Pacing)
    clock: Callable[[], float] = time.monotonic
    _due_at: dict[str, float] = field(default_factory=dict)

    def due(self, employees: Iterable[str]) -> set[str]:
        now = self.clock()
        return {e for e in employees if self._due_at.get(e, now) <= now}

    def evaluated(self, durations: dict[str, float]) -> None:
        """Record evaluations that just ended (committed), with how long each one took."""
        now = self.clock()
        for employee_id, duration_s in durations.items():
            self._due_at[employee_id] = now + self.pacing.interval(duration_s)
        if len(self._due_at) > 100_000:  # an employee no longer remembered is simply due
            self._due_at = {e: t for e, t in self._due_at.items() if t > now}

    def __len__(self) -> int:
        return len(self._due_at)
