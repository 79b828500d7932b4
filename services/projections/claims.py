"""Which process of a worker owns which partitions, decided by PostgreSQL advisory locks.

Any number of processes of one worker, on any machines, share its partitions with no
configuration: each holds a session lock per partition it owns (partition ``p`` covers ``p``
of every topic the worker reads) and one lock naming itself as a member. Every few seconds
each member compares what it holds with its fair share, ``ceil(units / members)``: above it,
it hands partitions back (after its batch in flight committed); below it, it takes
partitions nobody holds. A member that dies (SIGKILL, a lost machine) loses its session and
with it its locks, so the others take its partitions over at their next look. A singleton
is the same with one unit: the first member holds it, every other one waits as a standby.

No two processes ever own one partition at once, and a new owner starts from the position
tracked in PostgreSQL, which the previous owner wrote in the same transaction as its rows.
Kafka consumer groups are not used: assignment needs nothing from the broker, so it works
alike on Apache Kafka and the embedded Tansu.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
import zlib
from typing import Any

import psycopg
from eventsourcing.persistence import Tracking

from kartoteka import kafka
from services.projections.runner import TRANSIENT, Runner

log = logging.getLogger(__name__)
MEMBER = 1 << 30  # objid of a member lock: MEMBER + backend pid; a unit lock's objid is the unit
HELD = (
    "SELECT objid::int8 AS objid, pid FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2"
    " AND granted AND classid = %s::oid"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


def lock_key(key: str) -> int:
    """The advisory lock class of a worker (``<topic prefix><name>``); pg_locks shows it as classid."""
    return zlib.crc32(key.encode()) & 0x7FFFFFFF


def fair_share(units: int, members: int) -> int:
    """The most units one of ``members`` may hold (they all hold some as soon as units allow)."""
    return math.ceil(units / max(1, members))


def plan(units: int, held: set[int], owners: dict[int, int], members: int) -> tuple[set[int], set[int]]:
    """(to release, to try to take) for a member holding ``held`` of ``units``; pure.

    ``owners`` maps each unit somebody holds to its holder's pid.
    """
    fair = fair_share(units, members)
    if len(held) > fair:
        return set(sorted(held)[fair:]), set()
    free = [u for u in range(units) if u not in owners and u not in held]
    return set(), set(free[: fair - len(held)])


class Claims:
    """One process's claims on a worker's units (partitions, or 1 for a singleton)."""

    def __init__(self, dsn: str, key: str, units: int, expected: int = 1) -> None:
        self.key = lock_key(key)
        self.units = units
        # Members known to be starting beside this one (a worker's shares): the first to
        # start does not take every partition only to hand half back a moment later.
        self.expected = expected
        self.held: set[int] = set()
        # pg_stat_activity names the process that holds what (operators; the scale-out test).
        self._conn = _connect(dsn, f"kartoteka claims {key} pid={os.getpid()}")
        self._pid = self._conn.info.backend_pid
        self._lock(MEMBER + self._pid)

    def refresh(self) -> tuple[set[int], set[int]]:
        """Take free units up to the fair share; (taken, to release by ``release`` once let go).

        Raises when the session is lost: its locks are gone, so this process owns nothing.
        """
        rows = self._conn.execute(HELD, (self.key,)).fetchall()
        owners = {objid: pid for objid, pid in rows if objid < MEMBER}
        members = max(self.expected, sum(1 for objid, _pid in rows if objid >= MEMBER))
        mine = {u for u, pid in owners.items() if pid == self._pid}
        if mine != self.held:
            raise RuntimeError(f"claims lost: holding {sorted(mine)}, expected {sorted(self.held)}")
        release, wanted = plan(self.units, self.held, owners, members)
        taken = {u for u in sorted(wanted) if self._lock(u)}
        self.held |= taken
        if taken or release:
            log.info("claims change", extra={"members": members, "taken": sorted(taken),
                                             "releasing": sorted(release), "held": sorted(self.held)})
        return taken, release

    def release(self, units: set[int]) -> None:
        for unit in sorted(units & self.held):
            self._conn.execute("SELECT pg_advisory_unlock(%s, %s)", (self.key, unit))
            self.held.discard(unit)

    def close(self) -> None:
        self._conn.close()  # the session ends: every lock with it

    def _lock(self, objid: int) -> bool:
        row = self._conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (self.key, objid)).fetchone()
        return bool(row and row[0])


def _connect(dsn: str, name: str, every_s: float = 1.0) -> psycopg.Connection[Any]:
    """Wait for the database (restarting): a worker that exited when its session died comes
    back once it can claim again, rather than exiting over and over."""
    while True:
        try:
            # Autocommit: the locks are the session's; an idle session holds nothing else.
            return psycopg.connect(dsn, autocommit=True, connect_timeout=5, application_name=name[:63])
        except psycopg.OperationalError as exc:
            log.warning("database unreachable; waiting to claim", extra={"error": str(exc)})
            time.sleep(every_s)


class ClaimingRunner(Runner):
    """The shared runner on the partitions its ``Claims`` hold, rebalanced every few seconds."""

    def __init__(self, *args: Any, claims: Claims, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.claims = claims

    def run(self) -> None:
        if not self.spec.singleton:  # the topics' own count, whatever KARTOTEKA_PARTITIONS says now
            kafka.ensure_topics(self.settings)
            client = kafka.admin(self.settings)
            try:
                self.claims.units = max(len(d["partitions"]) for d in client.describe_topics(self.topics))
            finally:
                client.close()
        self.claims.refresh()
        super().run()

    def _owns(self, partition: int) -> bool:
        # A singleton's one unit stands for every partition.
        return bool(self.claims.held) if self.spec.singleton else partition in self.claims.held

    def _rebalance(self) -> None:
        """A partition is let go only once the batch in flight committed its position, so its
        next owner, starting from that position, neither skips nor repeats a record."""
        taken, release = self.claims.refresh()
        if taken or release:
            self._settle()
            self._close()
            self.claims.release(release)
            self._done.clear()
            self._start()

    def _apply_with_retry(self, good: list[Any], trackings: list[Tracking]) -> None:
        try:
            super()._apply_with_retry(good, trackings)
        except TRANSIENT:  # the database is away: nothing to compare with
            raise
        except Exception:
            # Refused because another process tracked these records first (its claim outlived
            # ours): stop, rather than dead-letter them as poison.
            done = {self._names[tp]: offset for tp, offset in self._done.items() if tp in self._names}
            tracked = self.positions.get(t.application_name for t in trackings)
            if moved := [n for n, at in tracked.items() if at is not None and at > done.get(n, -1)]:
                raise RuntimeError(f"positions advanced by another process: {moved}") from None
            raise


def wait_sole(claims: Claims, stopping: threading.Event, every_s: float = 1.0) -> bool:
    """Block as a standby until this process holds the singleton's one unit (False: stopped)."""
    while not claims.held:
        claims.refresh()
        if not claims.held and stopping.wait(every_s):
            return False
    return True


def watch_sole(claims: Claims, stopping: threading.Event, lost: threading.Event, every_s: float = 2.0) -> None:
    """While a singleton runs: if its claim is lost (session gone), stop it, so it never runs twice."""
    while not stopping.wait(every_s):
        try:
            claims.refresh()
        except Exception:  # noqa: BLE001 - any failure means the lock may be gone
            log.exception("singleton claim lost; stopping")
            lost.set()
            stopping.set()
