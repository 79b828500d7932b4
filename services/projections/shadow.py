"""Read models rebuilt beside the live ones, and swapped in at once.

A rebuild writes into a schema of its own: empty copies of the read-model tables (with their
indexes and triggers) and an empty position table, while every other table shows through as
a view of the live one (the identity log it replays, tables its writes touch in passing). Its
workers connect with that schema first on their search path (kartoteka.db.datastore). Only
the last step touches the live tables: one transaction moves the old tables out, the new ones
in, and the rebuilt workers' positions over. A rebuild that fails or is interrupted before
then leaves the live read models as they were; the next one starts by dropping its leftovers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql

from kartoteka import db

SCHEMA = "kartoteka_rebuild"
REPLACED = "kartoteka_replaced"


def prepare(dsn: str, tables: Sequence[str]) -> None:
    """A fresh shadow schema: empty ``tables``, an empty position table, views of the rest."""
    with psycopg.connect(dsn, autocommit=False) as conn:
        # Catalog output (trigger definitions) then names every table with its schema.
        conn.execute("SET LOCAL search_path = pg_catalog")
        for schema in (SCHEMA, REPLACED):  # what an interrupted rebuild left behind
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(SCHEMA)))
        for table in (*tables, db.TRACKING_TABLE):
            conn.execute(sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(
                sql.Identifier(SCHEMA, table), sql.Identifier("public", table)))
        for trigger in _triggers(conn, tables):
            conn.execute(trigger)  # type: ignore[arg-type]
        for table in _public_tables(conn):
            if table not in tables and table != db.TRACKING_TABLE:
                conn.execute(sql.SQL("CREATE VIEW {} AS TABLE {}").format(
                    sql.Identifier(SCHEMA, table), sql.Identifier("public", table)))


def swap(dsn: str, tables: Sequence[str], positions: Sequence[str]) -> None:
    """In one transaction: the rebuilt tables replace the live ones (grants kept), and the
    rebuilt positions (names starting with one of ``positions``) replace the live ones."""
    with psycopg.connect(dsn, autocommit=False) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(REPLACED)))
        for table in tables:
            grants = _grants(conn, table)
            conn.execute(sql.SQL("ALTER TABLE {} SET SCHEMA {}").format(
                sql.Identifier("public", table), sql.Identifier(REPLACED)))
            conn.execute(sql.SQL("ALTER TABLE {} SET SCHEMA public").format(
                sql.Identifier(SCHEMA, table)))
            for grantee, privilege in grants:
                conn.execute(sql.SQL("GRANT {} ON {} TO {}").format(
                    sql.SQL(privilege), sql.Identifier("public", table), sql.Identifier(grantee)))
        starts = sql.SQL(" WHERE EXISTS (SELECT FROM unnest(%s::text[]) AS p(prefix)"
                         " WHERE starts_with(application_name, p.prefix))")
        conn.execute(sql.SQL("DELETE FROM {}").format(
            sql.Identifier("public", db.TRACKING_TABLE)) + starts, (list(positions),))
        conn.execute(sql.SQL("INSERT INTO {} SELECT * FROM {}").format(
            sql.Identifier("public", db.TRACKING_TABLE), sql.Identifier(SCHEMA, db.TRACKING_TABLE))
            + starts, (list(positions),))
        for schema in (SCHEMA, REPLACED):
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def discard(dsn: str) -> None:
    """Drop what a failed rebuild built; the live read models never changed."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(SCHEMA)))


def _public_tables(conn: psycopg.Connection[Any]) -> list[str]:
    rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return [r[0] for r in rows]


def _triggers(conn: psycopg.Connection[Any], tables: Sequence[str]) -> list[str]:
    """The live tables' triggers, as statements creating them on the shadow tables."""
    rows = conn.execute(
        "SELECT c.relname, pg_get_triggerdef(t.oid) FROM pg_trigger t"
        " JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND c.relname = ANY(%s) AND NOT t.tgisinternal",
        (list(tables),)).fetchall()
    return [definition.replace(f" ON public.{table} ", f" ON {SCHEMA}.{table} ", 1)
            for table, definition in rows]


def _grants(conn: psycopg.Connection[Any], table: str) -> list[tuple[str, str]]:
    rows = conn.execute(
        "SELECT grantee, privilege_type FROM information_schema.role_table_grants"
        " WHERE table_schema = 'public' AND table_name = %s AND grantee <> current_user"
        " AND grantee <> 'PUBLIC'", (table,)).fetchall()
    return [(r[0], r[1]) for r in rows]
