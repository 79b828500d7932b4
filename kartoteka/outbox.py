"""The outbox table: what a worker (or the api) sends, recorded with the state it follows from.

A sender writes its records here inside the transaction that commits that state; the relay
(``services/projections/relay``) publishes each topic's rows in ``seq`` order from a tracked
position. So nothing is sent that was not committed, and nothing committed stays unsent.
Every statement on the table is in this module.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from psycopg import AsyncConnection, Cursor

from events.records import Outgoing

# Writers serialise on this lock until they commit, so seq order is commit order: the relay,
# reading past its position, can never pass a row that a slower transaction commits later.
LOCK = "SELECT pg_advisory_xact_lock(122550254464888)"  # b"outbox" as an integer: any fixed key
INSERT = ("INSERT INTO outbox (topic, key, value, headers, written_by)"
          " VALUES (%s, %s, %s, %s::jsonb, %s)")
AFTER = ("SELECT seq, key, value, headers FROM outbox WHERE topic = %s AND seq > %s"
         " ORDER BY seq LIMIT %s")
LAST = "SELECT coalesce(max(seq), 0) AS last FROM outbox WHERE topic = %s"


def _params(records: Sequence[Outgoing], written_by: str) -> list[tuple[Any, ...]]:
    return [(r.topic, r.key, r.value, json.dumps([[n, v.decode()] for n, v in r.headers]), written_by)
            for r in records]


def write(curs: Cursor[Any], records: Sequence[Outgoing], written_by: str) -> None:
    """Add ``records`` to the caller's transaction (nothing is sent before it commits)."""
    if records:
        curs.execute(LOCK)
        curs.executemany(INSERT, _params(records, written_by))


async def write_async(conn: AsyncConnection[Any], records: Sequence[Outgoing], written_by: str) -> None:
    """:func:`write` for the api's async connections (inside ``conn.transaction()``)."""
    if records:
        await conn.execute(LOCK)
        async with conn.cursor() as curs:
            await curs.executemany(INSERT, _params(records, written_by))


def after(curs: Cursor[Any], topic: str, seq: int, limit: int) -> list[tuple[int, Outgoing]]:
    """The topic's rows past ``seq``, in order."""
    curs.execute(AFTER, (topic, seq, limit))
    return [(r["seq"], Outgoing(topic, None if r["key"] is None else bytes(r["key"]), bytes(r["value"]),
                                tuple((n, v.encode()) for n, v in r["headers"])))
            for r in curs.fetchall()]


def last(curs: Cursor[Any], topic: str) -> int:
    curs.execute(LAST, (topic,))
    row = curs.fetchone()
    return int(row["last"]) if row else 0
