"""CPU accounting from /proc: how many cores each process tree used during a phase.

On a 2-core machine the load generator, the broker, PostgreSQL and every service share the
same cores, so each figure in the report comes with who burnt the CPU while it was taken.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

_TICK = os.sysconf("SC_CLK_TCK")


def _stats() -> dict[int, tuple[int, float, float]]:
    """pid -> (ppid, own cpu seconds, reaped children's cpu seconds) for every live process."""
    found: dict[int, tuple[int, float, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ppid, utime, stime, cutime, cstime = (int(fields[i]) for i in (1, 11, 12, 13, 14))
        found[int(entry)] = (ppid, (utime + stime) / _TICK, (cutime + cstime) / _TICK)
    return found


def tree_seconds(root: int, stats: dict[int, tuple[int, float, float]] | None = None) -> float:
    """CPU seconds of ``root`` and all its descendants, including exited ones it reaped."""
    stats = stats if stats is not None else _stats()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            total += stats[pid][1] + stats[pid][2]
            todo.extend(children.get(pid, []))
    return total


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine since boot."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


@dataclass
class Meter:
    """Cores used per named process tree (and by the whole machine) between start and stop."""

    pids: dict[str, int]
    started: float = 0.0
    before: dict[str, float] = field(default_factory=dict)
    machine_before: tuple[int, int] = (0, 0)
    children_before: float = 0.0

    def start(self) -> Meter:
        stats = _stats()
        self.before = {n: tree_seconds(p, stats) for n, p in self.pids.items()}
        self.machine_before = machine_jiffies()
        self.children_before = _reaped_children()
        self.started = time.monotonic()
        return self

    def add(self, name: str, pid: int) -> None:
        """Also account for a process started after ``start`` (from now on)."""
        self.pids[name] = pid
        self.before[name] = tree_seconds(pid)

    def stop(self) -> dict[str, float]:
        """Average cores used by each tree; ``loadgen`` is what this process reaped (locust)."""
        wall = max(time.monotonic() - self.started, 1e-6)
        stats = _stats()
        used = {
            n: round((tree_seconds(p, stats) - self.before[n]) / wall, 3)
            for n, p in self.pids.items()
        }
        used["loadgen"] = round((_reaped_children() - self.children_before) / wall, 3)
        busy, total = machine_jiffies()
        share = (busy - self.machine_before[0]) / max(total - self.machine_before[1], 1)
        used["machine"] = round(share * (os.cpu_count() or 1), 3)
        # Whatever else ran on the machine meanwhile (other users' jobs, the kernel).
        used["others"] = round(max(0.0, used["machine"] - sum(v for k, v in used.items() if k != "machine")), 3)
        return used


def _reaped_children() -> float:
    times = os.times()
    return times.children_user + times.children_system
