"""Reads of the duplicate finder's proposals (the JSON routes and pages share them)."""

from __future__ import annotations

from typing import Any

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

_COLUMNS = ("SELECT proposal_id::text AS id, customer_a::text AS a, customer_b::text AS b, score, evidence,"
            " status, proposed_at, decided_at, decided_by, reason FROM duplicate_proposals")


async def proposals(pool: AsyncConnectionPool, status: str, limit: int,
                    before: tuple[float, str] | None) -> list[dict[str, Any]]:
    """Proposals in one status, best first (score, then id), after the cursor."""
    where = "status = %s"
    params: list[Any] = [status]
    if before is not None:
        where += " AND (score, proposal_id) < (%s, %s::uuid)"
        params += [before[0], before[1]]
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as curs:
        await curs.execute(f"{_COLUMNS} WHERE {where} ORDER BY score DESC, proposal_id DESC LIMIT %s",  # noqa: S608
                           [*params, limit])
        return await curs.fetchall()


async def proposal(pool: AsyncConnectionPool, proposal_id: str) -> dict[str, Any] | None:
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as curs:
        await curs.execute(f"{_COLUMNS} WHERE proposal_id = %s::uuid", (proposal_id,))  # noqa: S608
        return await curs.fetchone()


async def for_customers(pool: AsyncConnectionPool, customer_ids: list[str]) -> list[dict[str, Any]]:
    """Open proposals touching any of these customers (a card's "possible duplicates")."""
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as curs:
        await curs.execute(f"{_COLUMNS} WHERE status = 'open' AND (customer_a = ANY(%s::uuid[])"  # noqa: S608
                           " OR customer_b = ANY(%s::uuid[])) ORDER BY score DESC LIMIT 20",
                           (customer_ids, customer_ids))
        return await curs.fetchall()
