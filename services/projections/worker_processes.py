"""One projection worker as several processes while it has a backlog, each owning a share of the partitions.

A projection worker is one Python process, so it never uses more than one core, however many
records wait (a rebuild from offset zero, a catch-up after an outage). Process ``i`` of ``n``
owns the partitions ``p`` with ``p % n == i``; positions are tracked per partition, so the
count can change between any two batches. (Run by ``kartoteka worker``, each share is one
more member claiming partitions instead, beside the worker's processes elsewhere: claims.py.)
More processes cost more when the worker keeps up (each share polls and commits its own small
batches; bench/README.md), so the worker runs one process, and ``most`` only while it is at
least ``backlog`` records behind. A switch stops the
running processes (each commits its batch in flight) before the next ones start, so no two
ever own one partition.

The parent only watches: it writes the worker's one status file (the sum of its shares'
lag) for whoever waits on it, switches between one and ``most`` processes, stops them on
SIGTERM/SIGINT, and exits when one dies, so that the supervisor restarts the whole worker
with its backoff.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading
import time
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, Protocol

from kartoteka.lifetime import die_with_parent
from kartoteka.settings import Settings
from services.projections.status import read_status, status_file, write_status

log = logging.getLogger(__name__)
STATUS_EVERY_S = 0.25
STOP_TIMEOUT_S = 20.0
CAUGHT_UP_S = 10.0  # lag 0 this long with more than one process: back to one


class RunShare(Protocol):
    """Runs one share of a worker (module-level, so a spawned process can import it)."""

    def __call__(self, name: str, settings: Settings, share: tuple[int, int] | None = None) -> None: ...


def share_name(name: str, index: int) -> str:
    """The status name of one share (the parent writes the worker's own)."""
    return f"{name}.share{index}"


class _Shares:
    """The processes of one count, started together and stopped together."""

    def __init__(self, name: str, settings: Settings, count: int, run: RunShare) -> None:
        self.name, self.settings, self.count = name, settings, count
        self.started = time.time()
        # Forked before the parent has a thread, a pool or a socket (nothing half-held is
        # inherited), with everything imported: a spawned share took seconds to import it again.
        context: Any = multiprocessing.get_context("fork" if threading.active_count() == 1 else "spawn")
        self.processes: list[BaseProcess] = []
        for index in range(count):
            process = context.Process(target=_share, args=(run, name, settings, index, count),
                                      name=f"{name}.share{index}", daemon=False)
            process.start()
            self.processes.append(process)
        log.info("worker shares started", extra={"worker": name, "processes": count})

    def dead(self) -> tuple[str, int | None] | None:
        for process in self.processes:
            if not process.is_alive():
                return process.name or "", process.exitcode
        return None

    def status(self) -> dict[str, Any] | None:
        """The shares' statuses summed, once every share has written one since it started."""
        found = [s for index in range(self.count)
                 if (s := read_status(status_file(self.settings, share_name(self.name, index))))]
        if len(found) < self.count or any(s.get("at", 0) < self.started for s in found):
            return None
        return {"projection": self.name, "lag": sum(s.get("lag", 0) for s in found),
                "processed": sum(s.get("processed", 0) for s in found),
                "at": min(s["at"] for s in found), "shares": self.count}

    def stop(self) -> None:
        for process in self.processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: each share commits its batch in flight, then exits
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for process in self.processes:
            process.join(max(0.1, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()


def run_shares(name: str, topics: list[str], settings: Settings, most: int, backlog: int, status: Path,
               run: RunShare) -> int:
    """Run until SIGTERM/SIGINT; 1 when a share died (the supervisor restarts the worker)."""
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    shares = _Shares(name, settings, most if _behind(name, topics, settings) >= backlog else 1, run)
    caught_up_at: float | None = None
    try:
        while not stopping.wait(STATUS_EVERY_S):
            if (dead := shares.dead()) is not None:
                log.error("worker share exited; stopping the others",
                          extra={"worker": name, "share": dead[0], "exitcode": dead[1]})
                return 1
            merged = shares.status()
            if merged is None:
                continue
            write_status(status, merged)
            count = shares.count
            if count == 1 and most > 1 and merged["lag"] >= backlog:
                count = most
            elif count > 1 and merged["lag"] == 0:
                caught_up_at = caught_up_at or time.monotonic()
                if time.monotonic() - caught_up_at > CAUGHT_UP_S:
                    count = 1
            else:
                caught_up_at = None
            if count != shares.count:
                log.info("worker switches processes", extra={"worker": name, "lag": merged["lag"],
                                                             "processes": count})
                shares.stop()
                caught_up_at = None
                shares = _Shares(name, settings, count, run)
        return 0
    finally:
        shares.stop()


def _behind(name: str, topics: list[str], settings: Settings) -> int:
    """Records of the worker's topics past its tracked positions (0 when that cannot be told)."""
    from kartoteka import kafka
    from services.projections.tracking import position_name, tracked

    try:
        consumer = kafka.consumer(settings)
        try:
            ends = consumer.end_offsets([tp for t in topics for tp in kafka.partitions_of(consumer, t)])
        finally:
            consumer.close()
        ids = kafka.topic_ids(settings, topics)
        names = {position_name(name, tp.topic, ids[tp.topic], tp.partition): end for tp, end in ends.items()}
        done = tracked(settings.dsn, list(names))
    except Exception:  # noqa: BLE001 - a broker or database not there yet: start with one
        log.warning("backlog unknown; starting one process", exc_info=True)
        return 0
    return sum(max(0, end - done.get(n, -1) - 1) for n, end in names.items())


def _share(run: RunShare, name: str, settings: Settings, index: int, count: int) -> None:
    from kartoteka import logs

    # SIGKILL, as the single-process worker would have died with it.
    die_with_parent(signal.SIGKILL)
    for sig in (signal.SIGTERM, signal.SIGINT):  # the parent's handlers came along with a fork
        signal.signal(sig, signal.SIG_DFL)
    logs.configure(f"worker-{name}.share{index}", settings.log_level)
    run(name, settings, share=(index, count))
