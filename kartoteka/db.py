"""Postgres connections in one place: the eventsourcing datastore (workers) and pools (HTTP)."""

from __future__ import annotations

import time
import weakref
from typing import Any

from eventsourcing.postgres import PostgresDatastore
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool

IDENTITY_EVENTS_TABLE = "identity_events"
TRACKING_TABLE = "tracking"
# A connection back in the pool for less than this is not pinged before its next use.
PING_IDLE_S = 1.0


def datastore(dsn: str, pool_size: int = 2, schema: str = "") -> PostgresDatastore:
    """An eventsourcing datastore over a DSN (URL or key=value, TCP or Unix socket).

    With ``schema``, eventsourcing's tables are that schema's and unqualified names look
    there first, then in public (a rebuild writes its new read models beside the old ones).
    """
    info = conninfo_to_dict(dsn)
    store = PostgresDatastore(
        dbname=str(info.get("dbname", "postgres")),
        host=str(info.get("host", "127.0.0.1")),
        port=str(info.get("port", 5432)),
        user=str(info.get("user", "postgres")),
        password=str(info.get("password", "")),
        pool_size=pool_size,
        max_overflow=2,
        pre_ping=True,
        originator_id_type="uuid",
        single_row_tracking=True,
        schema=schema,
    )
    if schema and isinstance(store.pool.kwargs, dict):  # the pool connects lazily, with these
        store.pool.kwargs["options"] = f"-c search_path={schema},public"
    ping_when_idle(store.pool)
    return store


def ping_when_idle(pool: ConnectionPool[Any], idle_s: float = PING_IDLE_S) -> None:
    """Pre-ping only the connections idle for ``idle_s`` or more.

    The library's pre-ping is a round trip on every check-out, and a caught-up resolver checks
    out three connections a batch, the relay three a publish: a fifth of their round trips to
    PostgreSQL. A connection used a moment ago is almost surely alive; if the server went away
    meanwhile, the use fails as a query would have, and the callers' retries take over.
    (psycopg_pool's ``check`` and ``reset`` callbacks, which the library's datastore does not expose.)
    """
    returned: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()

    def reset(conn: Any) -> None:
        returned[conn] = time.monotonic()

    def check(conn: Any) -> None:
        if time.monotonic() - returned.get(conn, float("-inf")) >= idle_s:
            ConnectionPool.check_connection(conn)

    pool._reset = reset  # noqa: SLF001
    pool._check = check  # noqa: SLF001
