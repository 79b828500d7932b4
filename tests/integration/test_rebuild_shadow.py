"""Read models rebuilt beside the live ones (services.projections.shadow), on real PostgreSQL."""

from __future__ import annotations

import uuid

import psycopg

from kartoteka import db
from services.projections import shadow

TABLES = ("customers", "customer_identifiers")


def _customer(conn, name: str) -> str:
    cid = str(uuid.uuid4())
    conn.execute("INSERT INTO customers (id, name, registered_at) VALUES (%s, %s, now())", (cid, name))
    return cid


def _names(dsn: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        return sorted(r[0] for r in conn.execute("SELECT name FROM customers"))


def test_the_live_tables_change_only_at_the_swap_in_one_step(settings):
    dsn = settings.dsn
    with psycopg.connect(dsn) as conn:
        _customer(conn, "Старая Запись")
        conn.execute("INSERT INTO tracking (application_name, notification_id) VALUES"
                     " ('timeline:old', 7), ('resolver:x', 9)")
    shadow.prepare(dsn, TABLES)
    store = db.datastore(dsn, pool_size=1, schema=shadow.SCHEMA)
    try:
        with store.transaction(commit=True) as curs:
            # Unqualified names reach the shadow tables; the rest shows through from public.
            curs.execute("INSERT INTO customers (id, name, registered_at) VALUES (%s, %s, now())",
                         (str(uuid.uuid4()), "Ирина Петрова"))
            curs.execute("INSERT INTO tracking (application_name, notification_id)"
                         " VALUES ('timeline:new', 3)")
            curs.execute("SELECT count(*) AS n FROM identity_events")
            assert curs.fetchone()["n"] == 0
    finally:
        store.close()
    assert _names(dsn) == ["Старая Запись"]  # nothing live changed yet
    shadow.swap(dsn, TABLES, ["timeline:"])
    assert _names(dsn) == ["Ирина Петрова"]
    with psycopg.connect(dsn) as conn:
        positions = dict(conn.execute("SELECT application_name, notification_id FROM tracking"))
        positions.pop("__migration__", None)  # kartoteka.migrate's own marker
        assert positions == {"timeline:new": 3, "resolver:x": 9}
        schemas = [r[0] for r in conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'kartoteka_%'")]
        assert schemas == []
        # The live table's trigger came along: a new name is searchable.
        _customer(conn, "Новое Имя")
        assert conn.execute("SELECT count(*) FROM customer_names WHERE search_name = 'новое имя'"
                            ).fetchone()[0] == 1
        granted = conn.execute("SELECT has_table_privilege('kartoteka_api', 'public.customers', 'SELECT')"
                               " FROM pg_roles WHERE rolname = 'kartoteka_api'").fetchall()
        assert granted in ([], [(True,)])


def test_a_rebuild_that_stops_before_the_swap_leaves_the_live_tables(settings):
    dsn = settings.dsn
    with psycopg.connect(dsn) as conn:
        _customer(conn, "Старая Запись")
    shadow.prepare(dsn, TABLES)
    with psycopg.connect(dsn, options=f"-c search_path={shadow.SCHEMA},public") as conn:
        conn.execute("DELETE FROM customers")
        _customer(conn, "Недостроенная")
    shadow.prepare(dsn, TABLES)  # the next rebuild starts clean
    shadow.discard(dsn)
    assert _names(dsn) == ["Старая Запись"]
