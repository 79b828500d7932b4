"""The outbox: what a sender records with its state, the relay publishes once committed, in order."""

from __future__ import annotations

import json
import threading

import psycopg
import pytest

from events.records import Outgoing
from kartoteka import db, outbox
from tests.support.kafka_tools import read_all
from tests.support.workers import running, wait_until

pytestmark = pytest.mark.integration


def _record(n: int) -> Outgoing:
    return Outgoing("alerts.v1", b"emp-1", json.dumps({"n": n}).encode(), (("event-type", b"test"),))


def _write(dsn: str, *numbers: int, commit: bool = True) -> None:
    datastore = db.datastore(dsn, pool_size=1)
    try:
        with datastore.transaction(commit=commit) as curs:
            outbox.write(curs, [_record(n) for n in numbers], "test")
    finally:
        datastore.close()


def _published(settings) -> list[int]:
    return [json.loads(r.value)["n"] for r in read_all(settings, settings.topic("alerts.v1"))]


def test_the_relay_publishes_committed_rows_in_order_and_never_a_rolled_back_one(settings):
    _write(settings.dsn, 1, 2)
    _write(settings.dsn, 99, commit=False)
    _write(settings.dsn, 3)
    with running(settings, ("relay",)):
        wait_until(lambda: _published(settings) == [1, 2, 3], message="three published")
        _write(settings.dsn, 4)
        wait_until(lambda: _published(settings) == [1, 2, 3, 4], message="the fourth")
    with running(settings, ("relay",)):  # a restart resumes from its tracked position
        _write(settings.dsn, 5)
        wait_until(lambda: _published(settings)[-1:] == [5], message="the fifth")
    assert _published(settings) == [1, 2, 3, 4, 5]
    headers = read_all(settings, settings.topic("alerts.v1"))[0].headers
    assert ("event-type", b"test") in headers


def test_a_second_writer_waits_for_the_first_to_commit_so_seq_order_is_commit_order(settings):
    first = psycopg.connect(settings.dsn)
    try:
        with first.cursor() as curs:
            curs.execute(outbox.LOCK)
            curs.execute(outbox.INSERT, ("alerts.v1", b"k", b"first", "[]", "test"))
        second = threading.Thread(target=_write, args=(settings.dsn, 2))
        second.start()
        second.join(1.0)
        assert second.is_alive(), "the second writer did not wait for the first's lock"
        first.commit()
        second.join(10)
        assert not second.is_alive()
    finally:
        first.close()
    with psycopg.connect(settings.dsn) as conn:
        values = [bytes(v) for (v,) in conn.execute("SELECT value FROM outbox ORDER BY seq")]
    assert values == [b"first", json.dumps({"n": 2}).encode()]


def test_the_relay_wakes_when_the_identity_log_commits_and_polls_without_its_connection(settings):
    from services.projections.identity.identity_log import IdentityLog
    from services.projections.relay.wakeup import Wakeup

    datastore = db.datastore(settings.dsn, pool_size=1)
    try:
        channel = IdentityLog(datastore).recorder.channel_name
        wakeup = Wakeup(settings.dsn, channel)
        assert not wakeup.wait(0.05), "nothing committed yet"
        with psycopg.connect(settings.dsn, autocommit=True) as conn:
            conn.execute(f'NOTIFY "{channel}"')
        assert wakeup.wait(5)
        wakeup.close()
        broken = Wakeup("postgresql://nobody@127.0.0.1:1/none", channel)
        assert not broken.wait(0.01), "no database: it waits out the poll interval instead"
    finally:
        datastore.close()


def _relay_position(dsn: str, topic: str) -> int | None:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT max(notification_id) FROM tracking WHERE application_name LIKE %s",
                           (f"relay:{topic}:%",)).fetchone()
    return row[0] if row else None


def test_the_relay_records_how_far_it_got_once_the_rows_stop_coming(settings):
    with running(settings, ("relay",)):
        for n in range(1, 6):
            _write(settings.dsn, n)
        wait_until(lambda: _published(settings) == [1, 2, 3, 4, 5], message="five published")
        with psycopg.connect(settings.dsn) as conn:
            last = conn.execute("SELECT max(seq) FROM outbox").fetchone()[0]
        # Still running: nothing new came, so the position caught up without a restart.
        wait_until(lambda: _relay_position(settings.dsn, settings.topic("alerts.v1")) == last,
                   message="the relay's position recorded")
