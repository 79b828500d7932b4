"""Postgres connections in one place: the eventsourcing datastore (workers) and pools (HTTP)."""

from __future__ import annotations

from eventsourcing.postgres import PostgresDatastore
from psycopg.conninfo import conninfo_to_dict

IDENTITY_EVENTS_TABLE = "identity_events"
TRACKING_TABLE = "tracking"


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
    return store
