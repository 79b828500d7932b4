"""The timeline read model: one customer's contacts (and the notes about them, see work) across
every merged member, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg_pool import AsyncConnectionPool

from services.api.queries import fetch_all
from services.api.queries.access import EXPORT_MAX_ROWS

# Interactions and notes (work_notes has the timeline's column names, so the filters and the
# cursor read both); an interaction a note named shows that note's latest outcome.
TIMELINE_PAGE = """
WITH r AS (SELECT coalesce(root_id, id) AS root FROM customers WHERE id = %(id)s),
ids AS (SELECT ARRAY(SELECT c.id FROM r JOIN customers c ON coalesce(c.root_id, c.id) = r.root) AS ids),
rows AS (
    (SELECT interaction_id, external_id, channel, direction, occurred_at, agent_id, subject, body,
            details, seq, NULL::text AS outcome
     FROM timeline WHERE customer_id = ANY((SELECT ids FROM ids)::uuid[]) {filters}
     ORDER BY occurred_at DESC, seq DESC LIMIT %(limit)s + 1)
    UNION ALL
    (SELECT note_id, NULL, channel, NULL, occurred_at, agent_id, NULL, body,
            jsonb_build_object('outcome', outcome, 'interaction_id', interaction_id), seq, outcome
     FROM work_notes WHERE customer_id = ANY((SELECT ids FROM ids)::uuid[]) {filters}
     ORDER BY occurred_at DESC, seq DESC LIMIT %(limit)s + 1)
    ORDER BY occurred_at DESC, seq DESC LIMIT %(limit)s + 1
),
page AS (SELECT *, row_number() OVER (ORDER BY occurred_at DESC, seq DESC) AS n FROM rows)
SELECT (SELECT root::text FROM r) AS root,
       coalesce((SELECT json_agg(json_build_object(
           'id', interaction_id::text, 'external_id', external_id, 'channel', channel,
           'direction', direction, 'occurred_at', occurred_at, 'agent_id', agent_id,
           'subject', subject, 'body', body, 'details', details,
           'outcome', coalesce(outcome, (SELECT o.outcome FROM work_notes o
                                         WHERE o.interaction_id = page.interaction_id AND o.outcome IS NOT NULL
                                         ORDER BY o.occurred_at DESC LIMIT 1))) ORDER BY n)
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


async def inbound_calls_and_chats(pool: AsyncConnectionPool, agent_id: str, since: datetime
                                  ) -> list[dict[str, Any]]:
    """Inbound calls and chats routed to one agent since a moment (the desk's screen-pop)."""
    return await fetch_all(pool, "SELECT interaction_id::text AS id, customer_id::text AS customer_id, channel"
                                 " FROM timeline WHERE agent_id = %s AND occurred_at >= %s"
                                 " AND direction = 'inbound' AND channel IN ('call', 'chat')"
                                 " ORDER BY occurred_at", (agent_id, since))
