"""Schema migrations: SQL files applied in order, once each, under an advisory lock."""

from __future__ import annotations

import logging
from importlib import resources

import psycopg
from eventsourcing.postgres import PostgresProcessRecorder

from kartoteka import db

log = logging.getLogger(__name__)
_LOCK_ID = 0x4B415254  # "KART"


def _migration_files() -> list[tuple[str, str]]:
    folder = resources.files("kartoteka") / "migrations"
    files = sorted((p for p in folder.iterdir() if p.name.endswith(".sql")), key=lambda p: p.name)
    return [(p.name, p.read_text(encoding="utf-8")) for p in files]


def apply_sql_migrations(dsn: str) -> list[str]:
    """Apply pending migrations; safe to run from several processes at once."""
    applied: list[str] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_ID,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r[0] for r in conn.execute("SELECT name FROM schema_migrations")}
            for name, sql in _migration_files():
                if name in done:
                    continue
                with conn.transaction():
                    conn.execute(sql)  # type: ignore[arg-type]
                    conn.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (name,))
                applied.append(name)
                log.info("migration applied", extra={"migration": name})
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_ID,))
    return applied


def create_event_store_tables(dsn: str) -> None:
    """The eventsourcing tables (identity events and tracking), created idempotently."""
    store = db.datastore(dsn, pool_size=1)
    try:
        PostgresProcessRecorder(
            store,
            events_table_name=db.IDENTITY_EVENTS_TABLE,
            tracking_table_name=db.TRACKING_TABLE,
        ).create_table()
    finally:
        store.close()


def migrate(dsn: str) -> list[str]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_ID + 1,))
        try:
            create_event_store_tables(dsn)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_ID + 1,))
    return apply_sql_migrations(dsn)
