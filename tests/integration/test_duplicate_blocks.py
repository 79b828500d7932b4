"""The finder's blocking keys in PostgreSQL: one row per (key, customer), kept equal to each record's keys."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg.rows import dict_row

from kartoteka.migrate import apply_sql_migrations
from services.projections.duplicates.attributes import MatchRecord, match_record
from services.projections.duplicates.store import CANDIDATES, ERASE, MERGE, write_records

pytestmark = pytest.mark.integration


def _write(conn: psycopg.Connection, records: list[MatchRecord]) -> None:
    with conn.cursor() as curs:
        write_records(curs, records)


def _blocks(conn: psycopg.Connection) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for key, customer in conn.execute("SELECT block_key, customer_id::text FROM match_blocks").fetchall():
        found.setdefault(customer, set()).add(key)
    return found


def _candidates(conn: psycopg.Connection, record: MatchRecord) -> set[str]:
    with conn.cursor(row_factory=dict_row) as curs:
        curs.execute(CANDIDATES, (list(record.block_keys),))
        return {r["c"] for r in curs.fetchall()}


def _person(name: str, phone: str, born: str = "1980-02-03") -> MatchRecord:
    return match_record(str(uuid.uuid4()), names=[name], birth_date=born, address="Lenina 5, kv 12, Moskva",
                        phones=[phone])


def test_blocks_follow_each_record_as_its_keys_change(settings) -> None:
    anna, boris = _person("Anna Petrova", "+79161234567"), _person("Boris Orlov", "+79035550101", "1975-07-08")
    with psycopg.connect(settings.dsn, autocommit=True) as conn:
        _write(conn, [anna, boris])
        assert _blocks(conn) == {anna.customer_id: set(anna.block_keys), boris.customer_id: set(boris.block_keys)}
        # Same house, so each is the other's candidate; a stranger elsewhere finds neither.
        assert _candidates(conn, anna) == _candidates(conn, boris) == {anna.customer_id, boris.customer_id}
        stranger = match_record(str(uuid.uuid4()), names=["Ivan Sidorov"], birth_date="1990-01-01",
                                address="Mira 77, Kazan", phones=["+78432000000"])
        assert _candidates(conn, stranger) == set()

        # Anna moves and changes her number: her old keys go, Boris keeps his.
        moved = match_record(anna.customer_id, names=["Anna Petrova"], birth_date="1980-02-03",
                             address="Mira 9, Kazan", phones=["+79260001122"])
        _write(conn, [moved])
        assert _blocks(conn) == {anna.customer_id: set(moved.block_keys), boris.customer_id: set(boris.block_keys)}
        assert _candidates(conn, boris) == {boris.customer_id}  # the house they shared no longer links them


def test_merged_away_and_erased_customers_leave_no_blocks(settings) -> None:
    a, b, c = (_person(n, p) for n, p in (("Anna Petrova", "+79161234000"), ("Anna Petrova", "+79161234001"),
                                          ("Vera Ivanova", "+79161234002")))
    with psycopg.connect(settings.dsn, autocommit=True) as conn:
        _write(conn, [a, b, c])
        for statement in MERGE:
            conn.execute(statement, {"s": a.customer_id, "m": b.customer_id})
        for statement in ERASE:
            conn.execute(statement, {"ids": [c.customer_id]})
        assert set(_blocks(conn)) == {a.customer_id}
        assert _candidates(conn, b) == {a.customer_id}


def test_an_existing_deployment_gets_the_blocks_of_its_records_from_migration_098(settings) -> None:
    """Upgrading: the finder's records from before 098 carry their keys in a column; 098 moves them."""
    anna, boris = _person("Anna Petrova", "+79161230000"), _person("Boris Orlov", "+79161230001")
    with psycopg.connect(settings.dsn, autocommit=True) as conn:
        # The tables as 070 left them (098 already ran on this test database: undo it).
        conn.execute("ALTER TABLE match_records ADD COLUMN block_keys text[]")
        conn.execute("DROP TABLE match_blocks")
        conn.execute("DELETE FROM schema_migrations WHERE name = '098_match_blocks.sql'")
        for r in (anna, boris):
            conn.execute("INSERT INTO match_records (customer_id, record, block_keys) VALUES (%s, '{}', %s)",
                         (r.customer_id, list(r.block_keys)))
    assert apply_sql_migrations(settings.dsn) == ["098_match_blocks.sql"]
    with psycopg.connect(settings.dsn, autocommit=True) as conn:
        assert _blocks(conn) == {anna.customer_id: set(anna.block_keys), boris.customer_id: set(boris.block_keys)}
        columns = {c for (c,) in conn.execute("SELECT column_name FROM information_schema.columns"
                                              " WHERE table_name = 'match_records'").fetchall()}
        assert columns == {"customer_id", "record"}
