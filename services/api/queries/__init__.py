"""The api's read side: one module of plain SQL per read model, used by the routes and the bench.

``customers`` (card, search, members), ``timeline``, ``access`` (the audit trail and its
chain), ``alerts``, ``work`` (requests, tasks, employees) and ``reports`` (dormant, birthdays,
activity, segments), ``export`` (everything about a customer's whole, for the data subject).
The api never writes a read model.
"""

from __future__ import annotations

from typing import Any

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool


async def fetch_all(pool: AsyncConnectionPool, query: str, params: Any) -> list[dict[str, Any]]:
    """Every row of ``query`` as dicts, on a pooled connection."""
    async with pool.connection() as conn:
        cursor = conn.cursor(row_factory=dict_row)
        await cursor.execute(query, params)
        return await cursor.fetchall()
