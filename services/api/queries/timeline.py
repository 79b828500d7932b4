"""The timeline read model: one customer's contacts across every merged member, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg_pool import AsyncConnectionPool

from services.api.queries import fetch_all
from services.api.queries.access import EXPORT_MAX_ROWS

TIMELINE_PAGE = """
WITH r AS (SELECT coalesce(root_id, id) AS root FROM customers WHERE id = %(id)s),
rows AS (
    SELECT interaction_id, external_id, channel, direction, occurred_at, agent_id, subject, body,
           details, seq
    FROM timeline
    WHERE customer_id = ANY(ARRAY(SELECT c.id FROM r JOIN customers c ON coalesce(c.root_id, c.id) = r.root))
      {filters}
    ORDER BY occurred_at DESC, seq DESC LIMIT %(limit)s + 1
),
page AS (SELECT *, row_number() OVER (ORDER BY occurred_at DESC, seq DESC) AS n FROM rows)
SELECT (SELECT root::text FROM r) AS root,
       coalesce((SELECT json_agg(json_build_object(
           'id', interaction_id::text, 'external_id', external_id, 'channel', channel,
           'direction', direction, 'occurred_at', occurred_at, 'agent_id', agent_id,
           'subject', subject, 'body', body, 'details', details) ORDER BY n)
        FROM page WHERE n <= %(limit)s), '[]')::text AS items,
       (SELECT count(*) FROM page) > %(limit)s AS more,
       (SELECT occurred_at FROM page WHERE n = %(limit)s) AS last_at,
       (SELECT seq FROM page WHERE n = %(limit)s) AS last_seq
"""


async def timeline_page(pool: AsyncConnectionPool, customer_id: str, channel: str | None,
                        before: tuple[datetime, int] | None, limit: int
                        ) -> tuple[str | None, bytes, tuple[datetime, int] | None]:
    """The root, one page of the merged timeline as JSON bytes, and the next page's cursor
    parts (None on the last page), in one round trip. The root is None for no such customer."""
    filters, params = [], {"id": customer_id, "limit": limit}
    if channel:
        filters.append("AND channel = %(channel)s")
        params["channel"] = channel
    if before:
        filters.append("AND (occurred_at, seq) < (%(at)s, %(seq)s)")
        params["at"], params["seq"] = before
    query = TIMELINE_PAGE.format(filters=" ".join(filters))
    async with pool.connection() as conn:
        cursor = await conn.execute(query, params)  # type: ignore[arg-type]
        row = await cursor.fetchone()
    assert row is not None  # scalar subqueries: always one row
    root, items, more, last_at, last_seq = row
    return root, items.encode(), (last_at, last_seq) if more else None


async def full_timeline(
    pool: AsyncConnectionPool, customer_id: str, max_rows: int = EXPORT_MAX_ROWS
) -> list[dict[str, Any]]:
    """A customer's whole contact history, newest first (for a data-subject export)."""
    return await fetch_all(
        pool,
        "SELECT interaction_id::text AS id, external_id, channel, direction, occurred_at,"
        " agent_id, subject, body, details FROM timeline WHERE customer_id = %s"
        " ORDER BY occurred_at DESC, seq DESC LIMIT %s",
        (customer_id, max_rows),
    )
