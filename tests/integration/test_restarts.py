"""Workers killed with SIGKILL in the middle of a 5,000-interaction backlog lose nothing and duplicate nothing.

The workers run as real processes (``kartoteka worker <name>``), exactly as the supervisor
starts them; the interactions go straight to ``interactions.v1`` as ingest would produce
them, including a few exact re-deliveries.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable

import psycopg
import pytest

from kartoteka.settings import Settings
from tests.support.data import interaction
from tests.support.kafka_tools import EndOffsets, Workload, accepted, as_raw, produce, workload
from tests.support.workers import spawn, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.faults]

INTERACTIONS = 5_000
PIPELINE = ("resolver", "relay", "timeline")
# Batches of this size stay clear of the resolver hang documented by
# test_a_backlog_larger_than_a_few_hundred_interactions_is_resolved_with_default_batches.
SMALL_BATCH = "200"
RELAY_BATCH = 2000  # Relay(batch=...) default


class Fleet:
    """Worker processes of one test; every one of them is killed on exit, whatever happens."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.logs: dict[str, deque[str]] = {}
        self.kills: list[tuple[str, int]] = []

    def start(self, name: str) -> None:
        process = spawn(self.settings, name)
        self.processes[name] = process
        tail = self.logs.setdefault(name, deque(maxlen=40))
        # Drain stderr so a chatty worker never blocks on a full pipe; keep the tail for failures.
        threading.Thread(target=_drain, args=(process, tail), daemon=True).start()

    def kill(self, name: str) -> None:
        self.assert_alive()  # a worker that already died would make this kill prove nothing
        process = self.processes.pop(name)
        process.kill()
        assert process.wait(10) == -9, f"{name} was not killed by SIGKILL"

    def assert_alive(self) -> bool:
        for name, process in self.processes.items():
            code = process.poll()
            assert code is None, f"worker {name} exited with {code}:\n" + "".join(self.logs[name])
        return True

    def close(self) -> None:
        for process in self.processes.values():
            process.kill()
        for process in self.processes.values():
            process.wait(10)
        self.processes.clear()


def _drain(process: subprocess.Popen[bytes], tail: deque[str]) -> None:
    assert process.stderr is not None
    for line in iter(process.stderr.readline, b""):
        tail.append(line.decode(errors="replace"))


def _scalar(dsn: str, query: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(query).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _timeline_rows(dsn: str) -> int:
    return _scalar(dsn, "SELECT count(*) FROM timeline")


def _attributed(dsn: str) -> int:
    """Interactions the resolver recorded (version 1 of an Attribution aggregate)."""
    return _scalar(
        dsn,
        "SELECT count(*) FROM identity_events"
        " WHERE originator_version = 1 AND topic LIKE '%Attribution.Attributed'",
    )


def _relay_position(dsn: str) -> int:
    return _scalar(
        dsn, "SELECT max(notification_id) FROM tracking WHERE application_name LIKE 'relay:%'"
    )


def _last_notification(dsn: str) -> int:
    return _scalar(dsn, "SELECT max(notification_id) FROM identity_events")


def _load(settings: Settings, monkeypatch: pytest.MonkeyPatch, batch: str | None) -> Workload:
    if batch is not None:
        monkeypatch.setenv("KARTOTEKA_BATCH_MAX_RECORDS", batch)  # inherited by spawned workers
    load = workload(interactions=INTERACTIONS, customers=1_000, shared_phones=50, duplicates=20)
    assert len(load.ids) == INTERACTIONS and len(load.records) == INTERACTIONS + 20
    topic = settings.topic("interactions.v1")
    # A one-record batch at the end of every partition keeps Tansu's end offsets exact, so
    # these tests exercise the restart itself rather than the false "log was reset" bug that
    # test_a_worker_restarted_after_it_caught_up_keeps_running pins down.
    produce(settings, topic, load.records, single_tail=60)
    ends = EndOffsets(settings, topic)
    try:
        assert ends.total() == len(load.records), "the broker reports inexact end offsets"
    finally:
        ends.close()
    return load


def _kill_midway(
    fleet: Fleet,
    name: str,
    progress: Callable[[], int],
    at_least: int,
    total: int,
    restart: bool = True,
) -> int:
    """Wait until ``progress`` reaches ``at_least``, SIGKILL ``name``, prove it was mid-way, restart it."""
    wait_until(
        lambda: fleet.assert_alive() and progress() >= at_least,
        timeout_s=40,
        interval_s=0.02,
        message=f"{name} progress >= {at_least}",
    )
    fleet.kill(name)
    frozen = progress()
    fleet.kills.append((name, frozen))
    assert 0 < frozen < total, f"{name} was not killed in the middle of the work ({frozen}/{total})"
    if restart:
        fleet.start(name)
    return frozen


def _wait_until_done(fleet: Fleet, settings: Settings) -> None:
    dsn = settings.dsn
    wait_until(
        lambda: fleet.assert_alive()
        and _attributed(dsn) == INTERACTIONS
        and _timeline_rows(dsn) >= INTERACTIONS
        and _relay_position(dsn) == _last_notification(dsn),
        timeout_s=60,
        interval_s=0.2,
        message="every interaction resolved, relayed and projected",
    )


def _assert_exactly_once(settings: Settings, load: Workload) -> None:
    expected = {a.id: a.interaction.external_id for a in load.distinct}
    with psycopg.connect(settings.dsn) as conn:
        rows = conn.execute("SELECT interaction_id::text, external_id FROM timeline").fetchall()
        attributions = conn.execute(
            "SELECT originator_id::text, count(*) FROM identity_events"
            " WHERE originator_version = 1 AND originator_id = ANY(%s::uuid[])"
            " GROUP BY originator_id",
            (list(expected),),
        ).fetchall()
        registered = conn.execute(
            "SELECT count(*) FROM identity_events WHERE topic LIKE '%Customer.Registered'"
        ).fetchone()[0]  # type: ignore[index]
        cards = conn.execute("SELECT count(*) FROM customers").fetchone()[0]  # type: ignore[index]
    ids = [r[0] for r in rows]
    assert len(ids) == len(set(ids)) == INTERACTIONS, "a timeline row is duplicated or missing"
    assert set(ids) == set(expected), (
        f"missing {len(set(expected) - set(ids))}, unexpected {len(set(ids) - set(expected))}"
    )
    assert dict(rows) == expected, "a timeline row carries another interaction's data"
    assert {i: n for i, n in attributions} == dict.fromkeys(expected, 1)
    assert _attributed(settings.dsn) == INTERACTIONS, "an interaction was attributed twice"
    assert cards == registered > 0, "the card projection lost or invented a customer"


def test_killing_the_resolver_and_the_timeline_worker_mid_way_loses_and_duplicates_nothing(
    settings, monkeypatch
):
    load = _load(settings, monkeypatch, SMALL_BATCH)
    dsn = settings.dsn
    fleet = Fleet(settings)
    try:
        for name in PIPELINE:
            fleet.start(name)
        resolved = _kill_midway(fleet, "resolver", lambda: _attributed(dsn), 500, INTERACTIONS)
        shown = _kill_midway(fleet, "timeline", lambda: _timeline_rows(dsn), 500, INTERACTIONS)
        _kill_midway(fleet, "resolver", lambda: _attributed(dsn), resolved + 800, INTERACTIONS)
        _kill_midway(fleet, "timeline", lambda: _timeline_rows(dsn), shown + 800, INTERACTIONS)
        _wait_until_done(fleet, settings)
    finally:
        fleet.close()
    assert [name for name, _ in fleet.kills] == ["resolver", "timeline", "resolver", "timeline"]
    _assert_exactly_once(settings, load)


def test_killing_the_relay_mid_way_loses_and_duplicates_nothing(settings, monkeypatch):
    load = _load(settings, monkeypatch, SMALL_BATCH)
    dsn = settings.dsn
    fleet = Fleet(settings)
    published = EndOffsets(settings, settings.topic("customers.v1"))
    try:
        for name in PIPELINE:
            fleet.start(name)
        # 1. While the resolver is still recording: kill the relay once it has published something.
        _kill_midway(fleet, "relay", lambda: _relay_position(dsn), 1, 10**9, restart=False)
        first = fleet.kills[-1][1]
        # Let the identity log grow a backlog the relay has to publish in several batches.
        wait_until(
            lambda: fleet.assert_alive() and _attributed(dsn) == INTERACTIONS,
            timeout_s=60,
            message="the resolver recorded every interaction",
        )
        last = _last_notification(dsn)
        assert last - first > 2 * RELAY_BATCH, "no backlog left for the relay to be killed in"
        # 2. Kill it the moment a new batch starts reaching customers.v1 (before its position is saved).
        before = published.total()
        fleet.start("relay")
        _kill_midway(fleet, "relay", lambda: published.total() - before, 1, 10**9, restart=False)
        second = fleet.kills[-1][1]
        stopped_at = _relay_position(dsn)
        assert stopped_at < last, f"relay had published everything ({stopped_at}/{last}) when killed"
        timeline_at_kill = _timeline_rows(dsn)
        assert timeline_at_kill < INTERACTIONS
        fleet.start("relay")
        _wait_until_done(fleet, settings)
    finally:
        published.close()
        fleet.close()
    assert first < last and second > 0
    _assert_exactly_once(settings, load)


def test_a_backlog_larger_than_a_few_hundred_interactions_is_resolved_with_default_batches(
    settings, monkeypatch
):
    monkeypatch.delenv("KARTOTEKA_BATCH_MAX_RECORDS", raising=False)
    _load(settings, monkeypatch, None)
    fleet = Fleet(settings)
    try:
        fleet.start("resolver")
        wait_until(
            lambda: fleet.assert_alive() and _attributed(settings.dsn) == INTERACTIONS,
            timeout_s=20,  # small batches need ~11 s for this backlog
            interval_s=0.5,
            message="the resolver recorded the whole backlog",
        )
    finally:
        fleet.close()


def test_a_worker_restarted_after_it_caught_up_keeps_running(settings):
    items = [accepted(interaction()) for _ in range(40)]
    produce(settings, settings.topic("interactions.v1"), [as_raw(a) for a in items])
    fleet = Fleet(settings)
    try:
        fleet.start("resolver")
        wait_until(
            lambda: fleet.assert_alive() and _attributed(settings.dsn) == len(items),
            message="the resolver recorded all 40 interactions",
        )
        fleet.kill("resolver")
        fleet.start("resolver")
        time.sleep(6)  # long enough to start, read its positions and poll
        fleet.assert_alive()
        late = accepted(interaction())
        produce(settings, settings.topic("interactions.v1"), [as_raw(late)])
        wait_until(
            lambda: fleet.assert_alive() and _attributed(settings.dsn) == len(items) + 1,
            message="the restarted resolver recorded a new interaction",
        )
    finally:
        fleet.close()
