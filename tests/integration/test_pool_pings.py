"""Pooled worker connections are pinged before use only after sitting idle (kartoteka.db)."""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import OperationalError

from kartoteka import db
from kartoteka.settings import Settings


def _one_connection(store: Any) -> None:
    """Open the pool with its one connection before any use: a use waiting for the pool's first
    connection makes it open a second, and the next use may get the other one."""
    store.pool.open(wait=True, timeout=30)
    assert store.pool.get_stats()["pool_size"] == 1


def _backend_of_last_use(store: object) -> int:
    with store.get_connection() as conn:  # type: ignore[attr-defined]
        return int(conn.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"])


def _terminate(dsn: str, pid: int) -> None:
    """Terminate the backend and wait until it is gone (the signal alone returns at once: a use
    right after could still find it running on a loaded machine)."""
    with psycopg.connect(dsn, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,)).fetchone() == (True,)


def test_a_connection_idle_past_the_limit_is_pinged_and_a_dead_one_replaced(settings: Settings) -> None:
    store = db.datastore(settings.dsn, pool_size=1)
    db.ping_when_idle(store.pool, idle_s=0.05)
    _one_connection(store)
    try:
        first = _backend_of_last_use(store)
        _terminate(settings.dsn, first)
        time.sleep(0.2)
        assert _backend_of_last_use(store) != first
    finally:
        store.close()


def test_a_connection_back_a_moment_ago_is_handed_out_without_a_ping(settings: Settings) -> None:
    store = db.datastore(settings.dsn, pool_size=1)
    db.ping_when_idle(store.pool, idle_s=60)
    _one_connection(store)
    try:
        _terminate(settings.dsn, _backend_of_last_use(store))
        time.sleep(0.2)
        # No round trip before the use: the dead connection shows on the query itself, which
        # the callers' retries handle; the pool then drops it, and the next use reconnects.
        with pytest.raises(OperationalError):
            _backend_of_last_use(store)
        assert _backend_of_last_use(store) > 0
    finally:
        store.close()
