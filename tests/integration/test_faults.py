"""Faults under continuous ingest: worker kills, a PostgreSQL restart, a broker restart.

Interactions flow in all the time through the real ingest app (three threads, each retrying
after a 503 like a channel does) while the workers run as real processes, supervised as
``kartoteka up`` supervises them. Afterwards the set of acknowledged interactions (202, or a
200 "duplicate" of one) is compared with the timeline: none missing, none duplicated. The
PostgreSQL and broker restarts use servers of their own, so other tests never notice.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections import deque
from pathlib import Path

import psycopg
import pytest

from kartoteka import kafka
from kartoteka.settings import Settings
from tests.support.dedicated import (
    dedicated_broker,
    dedicated_postgres,
    restart_postgres,
    settings_for,
)
from tests.support.faults import (
    PIPELINE,
    Fleet,
    Ingestor,
    assert_each_shown_exactly_once,
    drain,
    ingest_app,
    shown,
    wait_shown,
)
from tests.support.infra import Infra
from tests.support.kafka_tools import produce
from tests.support.workers import spawn, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(180)]


@pytest.fixture(autouse=True)
def _small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    # Inherited by the spawned workers: stays clear of the resolver hang on large batches
    # (see test_restarts.py); continuous ingest keeps batches small anyway.
    monkeypatch.setenv("KARTOTEKA_BATCH_MAX_RECORDS", "200")


def _progress(settings: Settings, load: Ingestor, more_than: int, timeout_s: float = 45) -> int:
    """Wait until more than ``more_than`` acknowledged interactions are in the timeline."""
    return int(wait_until(
        lambda: (n := len(shown(settings.dsn, load.acknowledged()))) > more_than and n,
        timeout_s=timeout_s, interval_s=0.3, message=f"more than {more_than} interactions shown",
    ))


def _finish(settings: Settings, load: Ingestor, fleet: Fleet) -> set[str]:
    load.stop()
    acknowledged = load.acknowledged()
    try:
        wait_shown(settings.dsn, acknowledged, timeout_s=60)
    finally:  # shown with -s, and in the report of a failing test
        slowest = max((a.ended - a.started for a in load.answers), default=0.0)
        print(f"ingest answers: {load.summary()} (slowest {slowest:.1f}s);"
              f" worker exits: {fleet.crashes() or 'none'}")
    return acknowledged


def test_killing_each_worker_during_continuous_ingest_loses_and_duplicates_nothing(
    settings: Settings,
) -> None:
    with ingest_app(settings) as client, Fleet(settings) as fleet:
        load = Ingestor(client, settings.secret).start()
        try:
            seen = _progress(settings, load, 20)
            for name in PIPELINE:
                fleet.kill(name)
                time.sleep(1.0)  # ingest goes on while the worker is dead
                fleet.start(name)
                seen = _progress(settings, load, seen + 20)
            for name in PIPELINE:  # all three at once
                fleet.kill(name)
            time.sleep(1.0)
            for name in PIPELINE:
                fleet.start(name)
            _progress(settings, load, seen + 20)
        finally:
            acknowledged = _finish(settings, load, fleet)
    assert fleet.kills == [*PIPELINE, *PIPELINE]
    assert not load.outside_the_contract() and load.count(503) == 0, load.outside_the_contract()[:5]
    assert len(acknowledged) >= 100
    assert_each_shown_exactly_once(settings.dsn, acknowledged)


def test_a_postgres_restart_during_continuous_ingest_loses_and_duplicates_nothing(
    infra: Infra, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = tmp_path_factory.mktemp("pg-restart")
    root.chmod(0o755)  # the server runs as its own user when tests run as root
    with dedicated_postgres(root) as server:
        settings = settings_for(root, server.dsn, infra.bootstrap)
        with ingest_app(settings) as client, Fleet(settings) as fleet:
            load = Ingestor(client, settings.secret).start()
            try:
                seen = _progress(settings, load, 20)
                restart_postgres(server, down_s=5.0)
                _progress(settings, load, seen + 30, timeout_s=75)
            finally:
                acknowledged = _finish(settings, load, fleet)
        assert not load.outside_the_contract(), load.outside_the_contract()[:5]
        refused = {a.code for a in load.answers if a.status == 503}
        assert refused <= {"database_unavailable", "status_unavailable"}, refused
        assert_each_shown_exactly_once(settings.dsn, acknowledged)


class IngestDidNotRecover(AssertionError):
    """The ingest process that lived through the broker restart still cannot produce."""


def test_a_broker_restart_refuses_ingest_while_down_keeps_what_was_recorded_and_resumes(
    infra: Infra,
) -> None:
    root = infra.root / f"broker-restart-{uuid.uuid4().hex[:8]}"
    root.mkdir()
    with dedicated_broker(root) as broker:
        settings = infra.new_settings(kafka_bootstrap_servers=broker.bootstrap)
        with ingest_app(settings) as survivor, Fleet(settings) as fleet:
            # 1. Recorded before the broker goes: the resolver has it in PostgreSQL.
            before = Ingestor(survivor, settings.secret).start()
            try:
                _progress(settings, before, 30)
            finally:
                recorded = _finish(settings, before, fleet)
            # 2. The broker dies and its log with it: ingest refuses, it never answers 202.
            broker.stop()
            down_at = time.monotonic()
            during = Ingestor(survivor, settings.secret, threads=4, pause_s=0.2).start()
            try:
                wait_until(lambda: during.count(503) >= 4, timeout_s=45, interval_s=0.2,
                           message="ingest refused while the broker is down")
            finally:
                during.stop()
            up_at = time.monotonic()
            # 3. It comes back empty; the supervisor recreates the topics (as `kartoteka up`
            # does). The workers resync to the new topics and take new interactions.
            broker.start()
            kafka.ensure_topics(settings)
            with ingest_app(settings) as fresh:
                after = Ingestor(fresh, settings.secret).start()
                try:
                    wait_until(lambda: after.count(202) >= 30, timeout_s=45, interval_s=0.3,
                               message="a fresh ingest acknowledging after the restart")
                finally:
                    resumed = _finish(settings, after, fleet)
            wait_shown(settings.dsn, recorded, timeout_s=30)
            refused = during.within(down_at, up_at)
            assert refused and all(
                a.status == 503 and a.code == "broker_unavailable" for a in refused
            ), {(a.status, a.code) for a in refused}
            assert not during.acknowledged(), "a 202 without a broker to acknowledge it"
            assert not before.outside_the_contract() and not after.outside_the_contract()
            assert_each_shown_exactly_once(settings.dsn, recorded | resumed)
            # 4. The ingest process that lived through it acknowledges again, too.
            again = Ingestor(survivor, settings.secret, threads=1, pause_s=0.5)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and again._post(again._next_item()).status != 202:
                pass
            if not again.count(202):
                raise IngestDidNotRecover(f"still refusing 20 s after the restart: {again.summary()}")


def test_a_caught_up_timeline_worker_restarts_without_exiting(settings: Settings) -> None:
    """Tansu answers ListOffsets(latest) with the last record batch's base offset + 1: a
    restart must not take a position past that "end" for a reset log (it crash-looped)."""
    # Five records produced together travel as one record batch, as the relay's do.
    produce(settings, settings.topic("customers.v1"), [(b"k", b"not an event", [])] * 5)
    first = spawn(settings, "timeline")
    try:
        wait_until(lambda: _tracked(settings, "timeline") == 4, timeout_s=60,
                   message="the worker dead-lettered and tracked all five")
    finally:
        first.kill()
        first.wait(10)
    restarted = spawn(settings, "timeline")
    log: deque[str] = deque(maxlen=200)
    threading.Thread(target=drain, args=(restarted, log), daemon=True).start()
    try:
        wait_until(lambda: restarted.poll() is not None or any("assigned" in x for x in log),
                   timeout_s=60, message="the restarted worker assigned or gone")
        code = restarted.poll()
        assert code is None, f"the restarted timeline worker exited with {code}: {list(log)[-1:]}"
    finally:
        restarted.kill()
        restarted.wait(10)


def _tracked(settings: Settings, worker: str) -> int | None:
    with psycopg.connect(settings.dsn) as conn:
        row = conn.execute("SELECT max(notification_id) FROM tracking WHERE application_name LIKE %s",
                           (f"{worker}:%",)).fetchone()
    return row[0] if row else None


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.add(int(entry.name))
    return found


def test_the_timeline_worker_runs_as_partition_shares_that_die_with_it(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Behind (here: always), two processes share customers.v1 (KARTOTEKA_TIMELINE_PROCESSES); a
    kill -9 of the worker the supervisor started takes them along, so its restart never runs
    beside old shares."""
    monkeypatch.setenv("KARTOTEKA_TIMELINE_SHARE_BACKLOG", "0")
    produce(settings, settings.topic("customers.v1"), [(b"k%d" % n, b"not an event", []) for n in range(8)])
    worker = spawn(settings, "timeline")
    status = settings.data_dir / "run" / f"{settings.topic_prefix}timeline.status.json"
    try:
        wait_until(lambda: status.exists() and json.loads(status.read_text()).get("shares") == 2,
                   timeout_s=60, message="one status for the worker's two shares")
        shares = _children(worker.pid)
        assert len(shares) == 2, shares
        wait_until(lambda: _tracked(settings, "timeline") is not None and json.loads(
            status.read_text())["lag"] == 0, timeout_s=60, message="both shares caught up")
    finally:
        worker.kill()
        worker.wait(10)
    wait_until(lambda: not any(Path(f"/proc/{pid}").exists() and "Z" not in _state(pid) for pid in shares),
               timeout_s=10, message="the shares gone with their parent")


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"
