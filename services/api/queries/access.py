"""The audit trail read model (access_log, its chain head and checkpoints): pages, exports, verification reads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from services.api.queries import fetch_all

ACCESS_COLUMNS = (
    "seq, id, employee_id, role, action, customer_ids, at, request_id, client, route, query"
)
EXPORT_MAX_ROWS = 100_000  # rows of one export (access records, a customer's contacts)


@dataclass(frozen=True)
class AccessFilter:
    """Who, which customer, and when: the officer's questions of the trail."""

    employee_id: str | None = None
    customer_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def where(self, before: tuple[datetime, int] | None = None) -> tuple[str, list[Any]]:
        clauses: list[str] = ["TRUE"]
        params: list[Any] = []
        for clause, value in (
            ("employee_id = %s", self.employee_id),
            ("customer_ids @> ARRAY[%s]::text[]", self.customer_id),
            ("at >= %s", self.since),
            ("at < %s", self.until),
        ):
            if value is not None:
                clauses.append(clause)
                params.append(value)
        if before is not None:
            clauses.append("(at, seq) < (%s, %s)")
            params.extend(before)
        return " AND ".join(clauses), params


# Newest first by the time of the access; records arrive out of that order (several api
# processes and partitions), so ``seq`` only breaks ties.
NEWEST_FIRST = "ORDER BY at DESC, seq DESC"


async def access_page(
    pool: AsyncConnectionPool, where: AccessFilter, before: tuple[datetime, int] | None, limit: int
) -> list[dict[str, Any]]:
    """Newest first; ``limit + 1`` rows so the caller knows whether a next page exists."""
    clause, params = where.where(before)
    query = f"SELECT {ACCESS_COLUMNS} FROM access_log WHERE {clause} {NEWEST_FIRST} LIMIT %s"
    return await fetch_all(pool, query, (*params, limit + 1))


async def access_stream(
    pool: AsyncConnectionPool, where: AccessFilter, max_rows: int = EXPORT_MAX_ROWS
) -> AsyncIterator[dict[str, Any]]:
    """Every matching record, newest first, through a server-side cursor (for exports)."""
    clause, params = where.where()
    query = f"SELECT {ACCESS_COLUMNS} FROM access_log WHERE {clause} {NEWEST_FIRST} LIMIT %s"
    async with pool.connection() as conn, conn.transaction():
        cursor = conn.cursor("access_export", row_factory=dict_row)
        await cursor.execute(query, (*params, max_rows))
        async for row in cursor:
            yield row


# --- the chain, read for verification (one REPEATABLE READ snapshot) -------------------------


async def snapshot(conn: AsyncConnection[Any]) -> None:
    """Head, checkpoints and rows must come from one moment, or a row appended between two
    reads would look like a truncation."""
    await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")


async def chain_head(conn: AsyncConnection[Any], chain: str) -> dict[str, Any] | None:
    cursor = conn.cursor(row_factory=dict_row)
    await cursor.execute(
        "SELECT seq, hash, signature FROM audit_chain_head WHERE chain = %s", (chain,)
    )
    return await cursor.fetchone()


async def checkpoints(conn: AsyncConnection[Any], chain: str) -> list[dict[str, Any]]:
    cursor = conn.cursor(row_factory=dict_row)
    await cursor.execute(
        "SELECT seq, hash, signature FROM audit_checkpoints WHERE chain = %s ORDER BY seq",
        (chain,),
    )
    return await cursor.fetchall()


async def unchained(conn: AsyncConnection[Any]) -> int:
    row = await (await conn.execute("SELECT count(*) FROM access_log WHERE chain_seq IS NULL")).fetchone()
    return int(row[0]) if row else 0


async def chain_rows(conn: AsyncConnection[Any], page: int) -> AsyncIterator[list[dict[str, Any]]]:
    """Chained rows in chain order, ``page`` at a time, from a server-side cursor."""
    cursor = conn.cursor("chain_verify", row_factory=dict_row)
    await cursor.execute(
        "SELECT * FROM access_log WHERE chain_seq IS NOT NULL ORDER BY chain_seq"
    )
    while rows := await cursor.fetchmany(page):
        yield rows


async def hourly_accesses(pool: AsyncConnectionPool, employee_ids: list[str], since: datetime
                          ) -> list[dict[str, Any]]:
    """Access records per employee and hour since a moment (the console's activity charts)."""
    return await fetch_all(
        pool,
        "SELECT employee_id, date_trunc('hour', at) AS hour, count(*) AS n FROM access_log"
        " WHERE employee_id = ANY(%s) AND at >= %s GROUP BY 1, 2",
        (employee_ids, since),
    )


async def daily_activity(pool: AsyncConnectionPool, employee_id: str, since: datetime, zone: str
                         ) -> list[dict[str, Any]]:
    """Per local day: distinct customers seen, exports and searches of one employee."""
    return await fetch_all(
        pool,
        "SELECT (at AT TIME ZONE %s)::date AS day,"
        " count(DISTINCT c) FILTER (WHERE c IS NOT NULL) AS customers,"
        " count(DISTINCT id) FILTER (WHERE action = 'customer.export') AS exports,"
        " count(DISTINCT id) FILTER (WHERE action = 'customer.search') AS searches"
        " FROM access_log LEFT JOIN LATERAL unnest(customer_ids) c ON true"
        " WHERE employee_id = %s AND at >= %s GROUP BY 1 ORDER BY 1",
        (zone, employee_id, since),
    )
