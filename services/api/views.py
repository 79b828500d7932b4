"""Read side: plain SQL over the read models (the api never writes customer data)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from events.identifiers import normalise_email, normalise_phone

PREFERRED_WINDOW = timedelta(days=90)


async def _all(
    pool: AsyncConnectionPool, query: str, params: tuple[Any, ...]
) -> list[dict[str, Any]]:
    async with pool.connection() as conn:
        cursor = conn.cursor(row_factory=dict_row)
        await cursor.execute(query, params)  # type: ignore[arg-type]
        return await cursor.fetchall()


async def search(pool: AsyncConnectionPool, q: str, limit: int) -> list[dict[str, Any]]:
    """Exact phone (any spelling) or email; otherwise a name substring."""
    phone, email = normalise_phone(q), normalise_email(q) if "@" in q else None
    if phone or email:
        kind, value = ("phone", phone) if phone else ("email", email)
        ids = await _all(
            pool,
            "SELECT DISTINCT customer_id FROM customer_identifiers"
            " WHERE kind = %s AND value = %s LIMIT %s",
            (kind, value, limit),
        )
        found = [(r["customer_id"], 1.0) for r in ids]
    else:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = await _all(
            pool,
            "SELECT id FROM customers WHERE name ILIKE %s ORDER BY name LIMIT %s",
            (like, limit),
        )
        found = [(r["id"], 0.5) for r in rows]
    return await _summaries(pool, found)


async def _summaries(
    pool: AsyncConnectionPool, found: list[tuple[Any, float]]
) -> list[dict[str, Any]]:
    if not found:
        return []
    ids = [cid for cid, _ in found]
    rows = await _all(
        pool,
        "SELECT c.id, c.name, array_remove(array_agg(i.value ORDER BY i.first_seen)"
        " FILTER (WHERE i.kind = 'phone' AND i.valid), NULL) AS phones,"
        " array_remove(array_agg(i.value ORDER BY i.first_seen)"
        " FILTER (WHERE i.kind = 'email'), NULL) AS emails"
        " FROM customers c LEFT JOIN customer_identifiers i ON i.customer_id = c.id"
        " WHERE c.id = ANY(%s) GROUP BY c.id",
        (ids,),
    )
    by_id = {r["id"]: r for r in rows}
    return [
        {
            "id": str(cid),
            "name": by_id[cid]["name"],
            "phones": by_id[cid]["phones"] or [],
            "emails": by_id[cid]["emails"] or [],
            "score": score,
        }
        for cid, score in found
        if cid in by_id
    ]


async def card(pool: AsyncConnectionPool, customer_id: str) -> dict[str, Any] | None:
    """The unified customer card, or None."""
    rows = await _all(
        pool,
        "SELECT id, name, merged_into, registered_at FROM customers WHERE id = %s",
        (customer_id,),
    )
    if not rows:
        return None
    customer = rows[0]
    identifiers = await _all(
        pool,
        "SELECT kind, value, valid, first_seen, last_seen, channel"
        " FROM customer_identifiers WHERE customer_id = %s"
        " ORDER BY kind, first_seen",
        (customer_id,),
    )
    return {
        "id": str(customer["id"]),
        "name": customer["name"],
        "merged_into": str(customer["merged_into"]) if customer["merged_into"] else None,
        "registered_at": customer["registered_at"],
        "identifiers": identifiers,
        "stats": await _stats(pool, customer_id),
    }


async def _stats(pool: AsyncConnectionPool, customer_id: str) -> dict[str, Any]:
    since = datetime.now(UTC) - PREFERRED_WINDOW
    per_channel = await _all(
        pool,
        "SELECT channel, count(*) AS n,"
        " count(*) FILTER (WHERE direction = 'inbound' AND occurred_at >= %s) AS inbound_recent,"
        " min(occurred_at) AS first_at, max(occurred_at) AS last_at"
        " FROM timeline WHERE customer_id = %s GROUP BY channel",
        (since, customer_id),
    )
    last = await _all(
        pool,
        "SELECT agent_id, occurred_at FROM timeline WHERE customer_id = %s"
        " ORDER BY occurred_at DESC, seq DESC LIMIT 1",
        (customer_id,),
    )
    preferred = max(per_channel, key=lambda r: (r["inbound_recent"], r["n"]), default=None)
    return {
        "total": sum(r["n"] for r in per_channel),
        "by_channel": {r["channel"]: r["n"] for r in per_channel},
        "first_contact_at": min((r["first_at"] for r in per_channel), default=None),
        "last_contact_at": last[0]["occurred_at"] if last else None,
        "last_agent_id": last[0]["agent_id"] if last else None,
        "preferred_channel": preferred["channel"]
        if preferred and preferred["inbound_recent"]
        else None,
    }


async def timeline(
    pool: AsyncConnectionPool,
    customer_id: str,
    channel: str | None,
    before: tuple[datetime, int] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Newest first; ``limit + 1`` rows so the caller knows whether a next page exists."""
    clauses, params = ["customer_id = %s"], [customer_id]
    if channel:
        clauses.append("channel = %s")
        params.append(channel)
    if before:
        clauses.append("(occurred_at, seq) < (%s, %s)")
        params.extend(before)  # type: ignore[arg-type]
    query = (
        "SELECT interaction_id AS id, external_id, channel, direction, occurred_at, agent_id,"
        " subject, body, details, seq FROM timeline WHERE "
        + " AND ".join(clauses)
        + " ORDER BY occurred_at DESC, seq DESC LIMIT %s"
    )
    return await _all(pool, query, (*params, limit + 1))


async def access_records(
    pool: AsyncConnectionPool,
    employee_id: str | None,
    customer_id: str | None,
    since: datetime | None,
    until: datetime | None,
    before: int | None,
    limit: int,
) -> list[dict[str, Any]]:
    """The audit trail, newest first, filtered."""
    clauses, params = ["TRUE"], []
    for clause, value in (
        ("employee_id = %s", employee_id),
        ("customer_ids @> ARRAY[%s]::text[]", customer_id),
        ("at >= %s", since),
        ("at < %s", until),
        ("seq < %s", before),
    ):
        if value is not None:
            clauses.append(clause)
            params.append(value)
    query = (
        "SELECT seq, id, employee_id, role, action, customer_ids, at, request_id, client, route, query"
        " FROM access_log WHERE " + " AND ".join(clauses) + " ORDER BY seq DESC LIMIT %s"
    )
    return await _all(pool, query, (*params, limit + 1))
