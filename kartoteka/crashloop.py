"""Crash-loop detection: a process that exits N times within M seconds is not recovering.

The supervisor restarts a crashed process with backoff; one that keeps failing (a port taken
by another program, a broken setting, a database it cannot log in to) would be restarted
forever, with ``make run`` never ready and never exiting. Past the limit the supervisor stops
the stack and says which process and why.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class CrashLoop:
    """Exits of one process within a sliding window."""

    limit: int = 5
    window_s: float = 60.0
    exits: deque[float] = field(default_factory=deque)

    def exited(self, at: float) -> bool:
        """Record an exit at ``at`` (monotonic seconds); True when that makes a crash loop."""
        self.exits.append(at)
        while self.exits and at - self.exits[0] > self.window_s:
            self.exits.popleft()
        return len(self.exits) >= self.limit

    def describe(self, name: str, code: int | None) -> str:
        return (f"{name} exited {len(self.exits)} times within {self.window_s:.0f} s "
                f"(last exit code {code}); stopping the stack: see its log lines above")
