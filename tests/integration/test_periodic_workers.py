"""The periodic standalone workers (anchor, retention) between and around their runs.

They ride out a database they cannot reach: they log it and try again on their next tick, as
the projection runner does with a batch, instead of dying and leaving the chain unanchored
until the supervisor restarts them. The database is made unreachable the way a busy host does
it: every connection of the worker's pool is taken, so its next request times out
(psycopg_pool's PoolTimeout).

And they keep their status fresh while they wait for their next run, as every runner does:
the supervisor's shutdown waits for fresh statuses at lag 0.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
import pytest

from events.audit import chain
from events.audit.anchor import read
from events.audit.trail import CHAIN, checkpoint_key
from kartoteka import db
from services.projections.anchor.worker import AnchorWriter
from services.projections.retention.worker import Retention
from tests.support.workers import wait_until

pytestmark = pytest.mark.integration
UNREACHABLE = "database unreachable"


def take_pool(datastore) -> Callable[[], None]:
    """Every connection of ``datastore``'s pool held, its requests timing out quickly; the
    function returned gives them back."""
    pool = datastore.pool
    pool.open(wait=True)
    held = [pool.getconn(timeout=30) for _ in range(pool.max_size)]
    pool.timeout = 0.2

    def give_back() -> None:
        while held:
            pool.putconn(held.pop())

    return give_back


@contextmanager
def in_thread(worker) -> Iterator[threading.Thread]:
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        worker.stopping.set()
        thread.join(10)


def _warnings(caplog) -> int:
    return sum(UNREACHABLE in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


def test_the_anchor_writer_anchors_the_head_once_the_database_is_back(settings, caplog):
    key = checkpoint_key(settings.secret)
    head = chain.checkpoint(1, "ab" * 32, key)
    with psycopg.connect(settings.dsn, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")  # as the audit worker's own write
        conn.execute("UPDATE audit_chain_head SET seq = %s, hash = %s, signature = %s WHERE chain = %s",
                     (head.seq, head.hash, head.signature, CHAIN))
    datastore = db.datastore(settings.dsn, pool_size=1)
    writer = AnchorWriter(datastore, settings.anchor_path, key, every_s=0.05)
    give_back = take_pool(datastore)
    try:
        with caplog.at_level(logging.WARNING), in_thread(writer) as thread:
            wait_until(lambda: _warnings(caplog) >= 2, message="two failed ticks")
            assert not settings.anchor_path.exists()
            give_back()
            wait_until(lambda: writer.anchored >= 1, message="anchored")  # counted once fsync'd
            assert thread.is_alive()
        latest = read(settings.anchor_path.read_text(), CHAIN, key).latest
        assert latest is not None and latest.checkpoint == head
    finally:
        give_back()
        datastore.close()


def test_retention_sweeps_again_once_the_database_is_back(settings, caplog):
    datastore = db.datastore(settings.dsn, pool_size=1)
    policy = settings.model_copy(update={"retention_interval_s": 0.05, "retention_days_call": 30})
    sweeper = Retention(policy, datastore)
    give_back = take_pool(datastore)
    try:
        with caplog.at_level(logging.WARNING), in_thread(sweeper) as thread:
            wait_until(lambda: _warnings(caplog) >= 2, message="two failed sweeps")
            give_back()
            # Requests served, not timed out: sweeps that reached the database.
            served = lambda: (s := datastore.pool.get_stats()).get("requests_num", 0) - s.get("requests_errors", 0)  # noqa: E731
            after = served()
            wait_until(lambda: served() >= after + 2, message="two sweeps after the outage")
            failed = _warnings(caplog)
            wait_until(lambda: served() >= after + 4, message="two more sweeps")
            assert _warnings(caplog) == failed and thread.is_alive()
    finally:
        give_back()
        datastore.close()


def test_retention_keeps_its_status_fresh_between_sweeps_an_hour_apart(settings, tmp_path):
    status = tmp_path / "retention.status.json"
    datastore = db.datastore(settings.dsn, pool_size=1)
    policy = settings.model_copy(update={"retention_interval_s": 3600.0, "retention_days_call": 30})
    sweeper = Retention(policy, datastore, status)
    try:
        with in_thread(sweeper) as thread:
            first = wait_until(lambda: status.exists() and json.loads(status.read_text())["at"], message="a status")
            # One sweep, then an hour to wait: a status written again means written while waiting.
            wait_until(lambda: json.loads(status.read_text())["at"] > first + 1,
                       message="the status written again while waiting for the next sweep")
            assert thread.is_alive() and json.loads(status.read_text())["lag"] == 0
    finally:
        datastore.close()
