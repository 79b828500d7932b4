"""Resident memory of every process of the stack, from /proc: at idle, sampled over a load, at its end.

Per named process tree (a worker, a service with its uvicorn children, Tansu, PostgreSQL with its
backends): RSS, PSS (shared pages split between the processes sharing them) and USS (pages only
the tree's processes hold), from ``/proc/<pid>/smaps_rollup``. PostgreSQL's shared buffers are
shared memory every backend maps: its RSS counts them again per backend, its PSS splits them, and
``RssShmem`` (from ``status``) is shown apart, so they are not read as the backends' own growth.
PSS is split further into anonymous memory (heaps, malloc arenas, thread stacks: what a process
made) and file-backed pages (the interpreter and the libraries it mapped), beside its thread count.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from bench.cpu import _stats

MB = 1024 * 1024
NOT_PYTHON = ("tansu", "postgres")
COUNTS = ("processes", "threads")


def _rollup(pid: int) -> dict[str, int] | None:
    """Bytes of Rss, Pss (and its anonymous and file-backed parts), USS (private pages) and RssShmem
    of one process, and its thread count; None when gone/unreadable."""
    found: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                name, _, rest = line.partition(":")
                if name in ("Rss", "Pss", "Pss_Anon", "Pss_File", "Private_Clean", "Private_Dirty"):
                    found[name] = int(rest.split()[0]) * 1024
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("RssShmem:"):
                    found["RssShmem"] = int(line.split()[1]) * 1024
                elif line.startswith("Threads:"):
                    found["Threads"] = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return {"rss": found.get("Rss", 0), "pss": found.get("Pss", 0),
            "pss_anon": found.get("Pss_Anon", 0), "pss_file": found.get("Pss_File", 0),
            "uss": found.get("Private_Clean", 0) + found.get("Private_Dirty", 0),
            "shmem": found.get("RssShmem", 0), "threads": found.get("Threads", 0)}


def tree(root: int, stats: dict[int, tuple[int, float, float]]) -> list[int]:
    """``root`` and its live descendants."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            found.append(pid)
            todo.extend(children.get(pid, []))
    return found


def snapshot(pids: dict[str, int]) -> dict[str, dict[str, float]]:
    """MB per named tree: rss, pss (pss_anon + pss_file + shared memory), uss, shmem (shared memory
    mapped, e.g. PostgreSQL's buffers); and its processes and threads."""
    stats = _stats()
    out = {}
    for name, root in pids.items():
        total = {"rss": 0, "pss": 0, "pss_anon": 0, "pss_file": 0, "uss": 0, "shmem": 0, "threads": 0,
                 "processes": 0}
        for pid in tree(root, stats):
            one = _rollup(pid)
            if one is not None:
                for k, v in one.items():
                    total[k] += v
                total["processes"] += 1
        out[name] = {k: (v if k in COUNTS else round(v / MB, 1)) for k, v in total.items()}
    return out


def python_total(snap: dict[str, dict[str, float]], measure: str = "pss") -> float:
    """The Python processes together (every tree but the broker and the database)."""
    return round(sum(v[measure] for k, v in snap.items() if k not in NOT_PYTHON), 1)


@dataclass
class Sampler:
    """Samples :func:`snapshot` every ``interval`` seconds in a thread, with a progress measure
    (e.g. timeline rows) beside each sample, so growth can be read per interaction."""

    pids: dict[str, int]
    progress: Any = None  # a callable returning the current count of work done, or None
    interval: float = 1.0
    points: list[tuple[float, int, dict[str, dict[str, float]]]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Sampler:
        self._thread = threading.Thread(target=self._run, daemon=True, name="memory")
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            done = int(self.progress()) if self.progress else 0
            self.points.append((time.monotonic(), done, snapshot(self.pids)))
            self._stop.wait(self.interval)

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        self.points.append((time.monotonic(), int(self.progress()) if self.progress else 0,
                            snapshot(self.pids)))
        return summarise(self.points)


def summarise(points: list[tuple[float, int, dict[str, dict[str, float]]]]) -> dict[str, Any]:
    """Per tree: RSS/PSS at start, end and peak, and the least-squares slope of PSS in MB per
    10,000 units of progress (interactions; over the whole load and its second half) and per minute."""
    if not points:
        return {}
    t0, _, first = points[0]
    _, _, last = points[-1]
    per_process = {}
    half = points[-1][1] / 2
    for name in first:
        series = [(t - t0, done, snap[name]) for t, done, snap in points if name in snap]
        late = [(d, s["pss"]) for _, d, s in series if d >= half]
        per_process[name] = {
            "rss_start": series[0][2]["rss"], "rss_end": series[-1][2]["rss"],
            "rss_peak": max(s[2]["rss"] for s in series),
            "pss_start": series[0][2]["pss"], "pss_end": series[-1][2]["pss"],
            "pss_peak": max(s[2]["pss"] for s in series), "uss_end": series[-1][2]["uss"],
            "pss_anon_end": series[-1][2].get("pss_anon"), "pss_file_end": series[-1][2].get("pss_file"),
            "threads_end": series[-1][2].get("threads"),
            "shmem_end": series[-1][2]["shmem"],
            "pss_mb_per_10k": _slope([(d, s["pss"]) for _, d, s in series], 10_000),
            # The second half alone: caches and batch buffers have reached their size by then.
            "pss_mb_per_10k_late": _slope(late, 10_000),
            "pss_mb_per_min": _slope([(t, s["pss"]) for t, _, s in series], 60),
        }
    peak = max(python_total(snap) for _, _, snap in points)
    return {"samples": len(points), "seconds": round(points[-1][0] - t0, 1),
            "python_pss_peak_mb": peak, "python_rss_peak_mb": max(python_total(s, "rss") for _, _, s in points),
            "python_pss_end_mb": python_total(last), "processes": per_process}


def _slope(xy: list[tuple[float, float]], per: float) -> float | None:
    """Least-squares slope of y over x, times ``per``; None without spread in x."""
    n = len(xy)
    if n < 3:
        return None
    mx = sum(x for x, _ in xy) / n
    my = sum(y for _, y in xy) / n
    sxx = sum((x - mx) ** 2 for x, _ in xy)
    if sxx <= 0:
        return None
    return round(per * sum((x - mx) * (y - my) for x, y in xy) / sxx, 2)
