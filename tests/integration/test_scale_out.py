"""Two processes of every pipeline worker share the work; killing one of each loses nothing.

The processes are started exactly as ``kartoteka worker <name>`` runs on each machine of a
scaled deployment (no instance numbers: they claim partitions among themselves through
PostgreSQL advisory locks). Interactions and access events flow in all the time; one process
of each worker is killed with SIGKILL mid-stream and never restarted, so the survivors must
take its partitions (or, for the relay, its turn) over from the positions in PostgreSQL.
"""

from __future__ import annotations

import re
import signal
import subprocess
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from kartoteka.settings import Settings
from services.projections.claims import MEMBER, lock_key
from tests.support.audit import access, count, produce_accesses
from tests.support.faults import (
    Ingestor,
    assert_each_shown_exactly_once,
    drain,
    ingest_app,
    shown,
    wait_shown,
)
from tests.support.workers import spawn, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(300)]
# Generous bounds: on a loaded 2-core machine ten Python processes take long to import.
START_S = 120.0

PARTITIONED = ("resolver", "timeline", "audit")
SINGLETONS = ("relay", "anchor")


def _holders(settings: Settings, name: str) -> dict[int, set[int]]:
    """Client process id -> the units it holds, for one worker (from pg_locks)."""
    with psycopg.connect(settings.dsn) as conn:
        rows = conn.execute(
            "SELECT l.objid::int8, a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
            " WHERE l.locktype = 'advisory' AND l.objsubid = 2 AND l.granted AND l.classid = %s::oid",
            (lock_key(f"{settings.topic_prefix}{name}"),),
        ).fetchall()
    held: dict[int, set[int]] = {}
    for objid, application in rows:
        pid = int(re.search(r"pid=(\d+)", application).group(1))  # type: ignore[union-attr]
        units = held.setdefault(pid, set())
        if objid < MEMBER:
            units.add(objid)
    return held


class _Pair:
    """Two processes of one worker, their last log lines kept for a failure report."""

    def __init__(self, settings: Settings, name: str) -> None:
        self.name = name
        self.processes = [spawn(settings, name) for _ in range(2)]
        self.tails: list[deque[str]] = []
        for process in self.processes:
            tail: deque[str] = deque(maxlen=20)
            threading.Thread(target=drain, args=(process, tail), daemon=True).start()
            self.tails.append(tail)

    def spread(self, settings: Settings, holders: int, units: int, timeout_s: float = 60) -> dict[int, set[int]]:
        """Wait until ``holders`` processes hold every unit between them; process id -> units."""
        last: dict[int, set[int]] = {}
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.alive()
            last = _holders(settings, self.name)
            owning = [u for u in last.values() if u]
            if len(owning) == holders and set().union(*owning) == set(range(units)):
                return last
            time.sleep(0.3)
        logs = "\n".join("".join(tail)[-3000:] for tail in self.tails)
        raise AssertionError(f"{self.name}: not {holders} holder(s) of {units} within {timeout_s}s: {last}\n{logs}")

    def kill(self, pid: int) -> None:
        """SIGKILL: no shutdown code runs, exactly like a crash of the machine.

        ``pid`` holds the claims: the worker process, or a share process it forked (which dies
        with it).
        """
        parent = re.search(r"PPid:\s+(\d+)", Path(f"/proc/{pid}/status").read_text())
        owners = {pid, int(parent.group(1)) if parent else 0}
        process = next(p for p in self.processes if p.pid in owners)
        process.send_signal(signal.SIGKILL)
        assert process.wait(10) == -signal.SIGKILL

    def alive(self) -> None:
        for process, tail in zip(self.processes, self.tails, strict=True):
            code = process.poll()
            assert code in (None, -signal.SIGKILL), f"{self.name} exited {code}: {''.join(tail)[-2000:]}"

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()


def _accesses(settings: Settings, stop: threading.Event, sent: list[int]) -> None:
    """Access events of 12 employees in small bursts, like the api under use."""
    n = 0
    while not stop.wait(0.1):
        sent.append(produce_accesses(settings, [access(employee_id=f"emp-{(n + i) % 12}") for i in range(10)]))
        n += 10


@pytest.fixture
def pairs(settings: Settings) -> Iterator[dict[str, _Pair]]:
    started = {name: _Pair(settings, name) for name in (*PARTITIONED, *SINGLETONS)}
    try:
        yield started
    finally:
        for pair in started.values():
            pair.stop()


def _alive(pairs: dict[str, _Pair]) -> None:
    for pair in pairs.values():
        pair.alive()


def _progress(settings: Settings, load: Ingestor, more_than: int, pairs: dict[str, _Pair]) -> int:
    def check() -> int:
        _alive(pairs)
        n = len(shown(settings.dsn, load.acknowledged()))
        return n if n > more_than else 0

    return int(wait_until(check, timeout_s=45, interval_s=0.3, message=f"more than {more_than} shown"))


def test_two_processes_of_each_worker_share_partitions_and_survive_a_kill_of_one(
    settings: Settings, pairs: dict[str, _Pair], api: Any, auth: Any
) -> None:
    units = settings.partitions
    stop_access, sent = threading.Event(), []  # type: ignore[var-annotated]
    with ingest_app(settings) as client:
        load = Ingestor(client, settings.secret).start()
        feeder = threading.Thread(target=_accesses, args=(settings, stop_access, sent), daemon=True)
        feeder.start()
        try:
            # Spread: both processes of a partitioned worker own partitions; one relay runs.
            before = {n: pairs[n].spread(settings, 2, units, START_S) for n in PARTITIONED}
            sole = {n: pairs[n].spread(settings, 1, 1, START_S) for n in SINGLETONS}
            assert all(len(held) == 2 for held in sole.values()), f"no standby waits: {sole}"
            seen = _progress(settings, load, 20, pairs)
            for name, held in before.items():
                pairs[name].kill(min(held))
            for name, held in sole.items():
                pairs[name].kill(next(pid for pid, units in held.items() if units))  # the active one
            # The survivors take everything over from the positions in PostgreSQL.
            for name in (*PARTITIONED, *SINGLETONS):
                pairs[name].spread(settings, 1, 1 if name in SINGLETONS else units)
            _progress(settings, load, seen + 40, pairs)
        finally:
            load.stop()
            stop_access.set()
            feeder.join(10)
    acknowledged = load.acknowledged()
    wait_shown(settings.dsn, acknowledged, timeout_s=60, alive=lambda: _alive(pairs))
    assert not load.outside_the_contract(), load.outside_the_contract()[:5]
    assert_each_shown_exactly_once(settings.dsn, acknowledged)
    _assert_cards(settings, load, api, auth)
    _assert_audit(settings, sum(sent), api, auth)


def _assert_cards(settings: Settings, load: Ingestor, api: Any, auth: Any) -> None:
    """Each phone is one customer whose card counts exactly its acknowledged interactions."""
    with psycopg.connect(settings.dsn) as conn:
        per_customer = Counter(r[0] for r in conn.execute(
            "SELECT customer_id::text FROM timeline WHERE interaction_id = ANY(%s::uuid[])",
            (list(load.acknowledged()),)))
    assert len(per_customer) == len(load.phones)
    for customer_id, interactions in per_customer.items():
        card = api.get(f"/v1/customers/{customer_id}", headers=auth("agent")).json()
        assert card["stats"]["total"] == interactions, card


def _assert_audit(settings: Settings, produced: int, api: Any, auth: Any) -> None:
    """Every fed access event is in the trail (once: its id is unique there); the chain verifies."""
    # The card reads above are access records too (of emp-42): count only the fed employees'.
    fed = "SELECT count(*) FROM access_log WHERE employee_id ~ '^emp-([0-9]|1[01])$'"
    wait_until(lambda: count(settings.dsn, fed) >= produced, timeout_s=30, message="every access recorded")
    assert count(settings.dsn, fed) == produced
    report = api.get("/v1/audit/verify", headers=auth("security_officer", "sec-1")).json()
    assert report["ok"] is True and report["checked"] >= produced, report
