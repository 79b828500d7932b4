"""410 Gone for erased customers: the one check every customer route makes on a miss."""

from __future__ import annotations

from typing import Any

from psycopg_pool import AsyncConnectionPool

from kartoteka.http import ApiError

ERASED = "SELECT erased_at FROM erased_customers WHERE customer_id = %s::uuid"
HOLD = "SELECT reason, until FROM legal_holds WHERE customer_id = ANY(%s::uuid[]) AND until > now()" \
       " ORDER BY until DESC LIMIT 1"


async def _one(pool: AsyncConnectionPool, query: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
    async with pool.connection() as conn:
        cursor = await conn.execute(query, params)  # type: ignore[arg-type]
        return await cursor.fetchone()  # type: ignore[no-any-return]


async def missing(pool: AsyncConnectionPool, customer_id: str) -> ApiError:
    """The error for an id no read model knows: 410 when it was erased, else 404.

    Only asked on a miss, so the reads of customers that exist pay nothing for it.
    """
    row = await _one(pool, ERASED, (customer_id,))
    if row is not None:
        return ApiError(410, "gone", f"customer erased at {row[0].isoformat()}")
    return ApiError(404, "not_found", "no such customer")


async def hold(pool: AsyncConnectionPool, member_ids: list[str]) -> tuple[str, Any] | None:
    """The legal hold in force on any of the customer's members: (reason, until), or None."""
    row = await _one(pool, HOLD, (member_ids,))
    return (row[0], row[1]) if row else None
