"""Fault injection for tests: continuous ingest and a supervised fleet of worker processes
(the servers a test may stop and start are in ``tests/support/dedicated.py``).
"""

from __future__ import annotations

import itertools
import signal
import subprocess
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from fastapi.testclient import TestClient

from kartoteka.auth import Role, mint
from kartoteka.settings import Settings
from tests.support.data import interaction, unique_phone
from tests.support.workers import spawn

PIPELINE = ("resolver", "relay", "timeline")


@dataclass(frozen=True)
class Answer:
    """One HTTP answer of ingest, with when the request started and ended (monotonic)."""

    id: str | None
    status: int
    code: str | None
    started: float
    ended: float


@dataclass
class Ingestor:
    """Threads that post interactions through the real ingest app until stopped.

    Every answer is kept. Like a channel, a thread retries the same interaction after a 503
    (so retried deliveries are part of the load) and moves on after anything else.
    ``acknowledged`` is what ingest promised to keep: 202 ``accepted`` or 200 ``duplicate``.
    """

    client: TestClient
    secret: str
    threads: int = 3
    pause_s: float = 0.04
    customers: int = 30
    answers: list[Answer] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.phones = [unique_phone() for _ in range(self.customers)]
        self._headers = {"Authorization": f"Bearer {mint(self.secret, 'faults', Role.channel, 3600)}"}
        self._tag = uuid.uuid4().hex[:8]
        self._numbers = itertools.count()

    def start(self) -> Ingestor:
        for n in range(self.threads):
            thread = threading.Thread(target=self._run, name=f"ingest-{n}", daemon=True)
            thread.start()
            self._workers.append(thread)
        return self

    def stop(self, timeout_s: float = 60) -> None:
        self._stop.set()
        for thread in self._workers:
            thread.join(timeout_s)
        assert not any(t.is_alive() for t in self._workers), "an ingest thread did not stop"

    def _next_item(self) -> dict[str, Any]:
        n = next(self._numbers)
        phone = self.phones[n % len(self.phones)]
        return interaction(external_id=f"fault-{self._tag}-{n}", customer={"phone": phone})

    def _run(self) -> None:
        item = self._next_item()
        while not self._stop.is_set():
            answer = self._post(item)
            if answer.status != 503:
                item = self._next_item()
            self._stop.wait(self.pause_s)

    def _post(self, item: dict[str, Any]) -> Answer:
        started = time.monotonic()
        response = self.client.post("/v1/interactions", json=item, headers=self._headers)
        body = _json(response)
        error = body.get("error") if isinstance(body, dict) else None
        answer = Answer(
            body.get("id") if isinstance(body, dict) else None,
            response.status_code,
            error.get("code") if isinstance(error, dict) else None,
            started,
            time.monotonic(),
        )
        with self._lock:
            self.answers.append(answer)
        return answer

    def acknowledged(self) -> set[str]:
        with self._lock:
            return {
                a.id for a in self.answers if a.id and (a.status == 202 or a.status == 200)
            }

    def count(self, status: int) -> int:
        with self._lock:
            return sum(a.status == status for a in self.answers)

    def within(self, start: float, end: float) -> list[Answer]:
        """Answers to requests sent at or after ``start`` and answered by ``end``."""
        with self._lock:
            return [a for a in self.answers if a.started >= start and a.ended <= end]

    def summary(self) -> dict[str, int]:
        """How many answers of each kind, e.g. {"202": 310, "503 database_unavailable": 4}."""
        counts: dict[str, int] = {}
        with self._lock:
            for a in self.answers:
                key = f"{a.status} {a.code}" if a.code else str(a.status)
                counts[key] = counts.get(key, 0) + 1
        return counts

    def outside_the_contract(self) -> list[Answer]:
        """Anything but 202, 200 duplicate, or 503 with a code (e.g. a 500, a 422 on good data)."""
        with self._lock:
            return [a for a in self.answers
                    if a.status not in (200, 202) and not (a.status == 503 and a.code)]


def _json(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class Fleet:
    """Worker processes supervised the way ``kartoteka up`` does: a worker that exits on its
    own is restarted after a short backoff, and its exit is recorded with its last log lines.
    A worker this test killed stays down until the test restarts it."""

    def __init__(self, settings: Settings, backoff_s: float = 0.5) -> None:
        self.settings = settings
        self.backoff_s = backoff_s
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.logs: dict[str, deque[str]] = {}
        self.exits: list[tuple[str, int | None, str]] = []
        self.kills: list[str] = []
        self._held: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._watcher = threading.Thread(target=self._supervise, daemon=True, name="fleet")

    def __enter__(self) -> Fleet:
        for name in PIPELINE:
            self.start(name)
        self._watcher.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._watcher.join(5)
        with self._lock:
            for process in self.processes.values():
                process.kill()
            for process in self.processes.values():
                process.wait(10)
            self.processes.clear()

    def start(self, name: str) -> None:
        with self._lock:
            process = spawn(self.settings, name)
            self.processes[name] = process
            self._held.discard(name)
            tail = self.logs.setdefault(name, deque(maxlen=30))
            threading.Thread(target=drain, args=(process, tail), daemon=True).start()

    def kill(self, name: str) -> None:
        """SIGKILL: no shutdown code runs, exactly like a crash of the machine."""
        with self._lock:
            self._held.add(name)
            process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        assert process.wait(10) == -signal.SIGKILL, f"{name} did not die by SIGKILL"
        self.kills.append(name)

    def crashes(self) -> list[str]:
        """Exits this test did not cause, as ``name (code): last log line``."""
        return [f"{name} ({code}): {tail}" for name, code, tail in self.exits]

    def _supervise(self) -> None:
        due: dict[str, float] = {}
        while not self._stop.wait(0.2):
            with self._lock:
                exited = [n for n, p in self.processes.items() if p.poll() is not None]
                for name in exited:
                    process = self.processes.pop(name)
                    tail = "".join(self.logs.get(name, ())).strip().splitlines()[-3:]
                    self.exits.append((name, process.returncode, " | ".join(tail)))
                    due[name] = time.monotonic() + self.backoff_s
            for name, at in list(due.items()):
                if time.monotonic() >= at and name not in self._held and not self._stop.is_set():
                    del due[name]
                    self.start(name)


def drain(process: subprocess.Popen[bytes], tail: deque[str]) -> None:
    assert process.stderr is not None
    for line in iter(process.stderr.readline, b""):
        tail.append(line.decode(errors="replace"))


def shown(dsn: str, ids: set[str]) -> set[str]:
    """Which of ``ids`` have a timeline row (an unreachable database shows nothing)."""
    try:
        with psycopg.connect(dsn, connect_timeout=2) as conn:
            rows = conn.execute(
                "SELECT interaction_id::text FROM timeline WHERE interaction_id = ANY(%s::uuid[])",
                (list(ids),),
            ).fetchall()
    except psycopg.OperationalError:
        return set()
    return {r[0] for r in rows}


def assert_each_shown_exactly_once(dsn: str, acknowledged: set[str]) -> None:
    """Every acknowledged interaction has one timeline row and one attribution; no extra row."""
    with psycopg.connect(dsn) as conn:
        rows = [r[0] for r in conn.execute("SELECT interaction_id::text FROM timeline")]
        attributions = conn.execute(
            "SELECT originator_id::text, count(*) FROM identity_events"
            " WHERE originator_version = 1 AND originator_id = ANY(%s::uuid[])"
            " GROUP BY originator_id",
            (list(acknowledged),),
        ).fetchall()
    assert len(rows) == len(set(rows)), "a timeline row is duplicated"
    missing = acknowledged - set(rows)
    assert not missing, f"{len(missing)} of {len(acknowledged)} acknowledged interactions are missing"
    assert dict(attributions) == dict.fromkeys(acknowledged, 1), "an interaction was attributed twice"


def wait_shown(dsn: str, ids: set[str], timeout_s: float, alive: Callable[[], object] = lambda: True) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        alive()
        missing = ids - shown(dsn, ids)
        if not missing:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(missing)} of {len(ids)} interactions not in the timeline "
                                 f"after {timeout_s}s, e.g. {sorted(missing)[:3]}")
        time.sleep(0.3)


@contextmanager
def ingest_app(settings: Settings) -> Iterator[TestClient]:
    from services.ingest.app import create_app

    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client
