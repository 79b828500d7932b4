"""Read side: plain SQL over the read models (the api never writes customer data).

A merged customer keeps its rows under its own id; its root (``customers.root_id``) is
the card it answers with, and reads gather every member of that root.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from events.identifiers import normalise_email, normalise_handle, normalise_phone
from events.names import folded, latin

PREFERRED_WINDOW = timedelta(days=90)
MIN_NAME_SIMILARITY = 0.3
_DIGITS = re.compile(r"^[\d\s()+\-.]{5,}$")

ROOT = "SELECT coalesce(root_id, id) AS root FROM customers WHERE id = %s"


async def _all(pool: AsyncConnectionPool, query: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    async with pool.connection() as conn:
        cursor = conn.cursor(row_factory=dict_row)
        await cursor.execute(query, params)  # type: ignore[arg-type]
        return await cursor.fetchall()


async def members(pool: AsyncConnectionPool, customer_id: str) -> tuple[str, list[str]] | None:
    """The root a customer answers with, and every customer merged into it."""
    rows = await _all(pool, f"SELECT m.id::text AS id, r.root::text AS root FROM ({ROOT}) r"  # noqa: S608
                            " JOIN customers m ON coalesce(m.root_id, m.id) = r.root", (customer_id,))
    if not rows:
        return None
    return rows[0]["root"], [r["id"] for r in rows]


async def search(pool: AsyncConnectionPool, q: str, limit: int) -> list[dict[str, Any]]:
    """Phone in any spelling, email or handle exactly; otherwise names, typo- and order-tolerant."""
    exact = _identifier_of(q)
    if exact is not None:
        rows = await _all(pool, "SELECT DISTINCT coalesce(c.root_id, c.id) AS id FROM customer_identifiers i"
                                " JOIN customers c ON c.id = i.customer_id"
                                " WHERE i.kind = %s AND i.value = %s LIMIT %s", (*exact, limit))
        found = [(r["id"], 1.0) for r in rows]
    else:
        found = await _by_name(pool, q, limit)
    return await _summaries(pool, found)


def _identifier_of(q: str) -> tuple[str, str] | None:
    if "@" in q and (email := normalise_email(q)):
        return "email", email
    if _DIGITS.match(q) and (phone := normalise_phone(q)):
        return "phone", phone
    if ":" in q and (handle := normalise_handle(q)):
        return "handle", handle
    return None


async def _by_name(pool: AsyncConnectionPool, q: str, limit: int) -> list[tuple[Any, float]]:
    """Nearest names by trigram distance in both scripts (typos, word order; ё = е), re-scored.

    The nearest candidates come from GiST KNN scans, so a common surname costs the same as
    a rare one; they are then scored by whole-name and word similarity plus russian stems.
    """
    rows = await _all(pool, """
        WITH candidates AS (
            (SELECT id FROM customers ORDER BY search_name <-> %(q)s LIMIT %(k)s)
            UNION
            (SELECT id FROM customers WHERE search_latin IS NOT NULL
             ORDER BY search_latin <-> %(lat)s LIMIT %(k)s)
        ), scored AS (
            SELECT coalesce(c.root_id, c.id) AS id,
                   greatest(similarity(c.search_name, %(q)s), word_similarity(%(q)s, c.search_name),
                            similarity(c.search_latin, %(lat)s), word_similarity(%(lat)s, c.search_latin))
                   + 0.5 * ts_rank(c.search_tsv, plainto_tsquery('russian', %(q)s)) AS score
            FROM customers c JOIN candidates USING (id)
        )
        SELECT id, max(score) AS score FROM scored WHERE score >= %(min)s
        GROUP BY id ORDER BY score DESC, id LIMIT %(limit)s
        """, {"q": folded(q), "lat": latin(q), "k": max(100, 2 * limit), "min": MIN_NAME_SIMILARITY,
              "limit": limit})  # type: ignore[arg-type]
    return [(r["id"], round(float(r["score"]), 4)) for r in rows]


async def _summaries(pool: AsyncConnectionPool, found: list[tuple[Any, float]]) -> list[dict[str, Any]]:
    if not found:
        return []
    ids = [cid for cid, _ in found]
    rows = await _all(pool, """
        SELECT r.id,
               (SELECT m.name FROM customers m WHERE coalesce(m.root_id, m.id) = r.id AND m.name IS NOT NULL
                ORDER BY m.name_at DESC LIMIT 1) AS name,
               array(SELECT DISTINCT i.value FROM customer_identifiers i JOIN customers m ON m.id = i.customer_id
                     WHERE coalesce(m.root_id, m.id) = r.id AND i.kind = 'phone' AND i.valid) AS phones,
               array(SELECT DISTINCT i.value FROM customer_identifiers i JOIN customers m ON m.id = i.customer_id
                     WHERE coalesce(m.root_id, m.id) = r.id AND i.kind = 'email') AS emails
        FROM customers r WHERE r.id = ANY(%s)""", (ids,))
    by_id = {r["id"]: r for r in rows}
    return [{"id": str(cid), "name": by_id[cid]["name"], "phones": by_id[cid]["phones"],
             "emails": by_id[cid]["emails"], "score": score} for cid, score in found if cid in by_id]


async def card(pool: AsyncConnectionPool, customer_id: str) -> dict[str, Any] | None:
    """The unified customer card (of the survivor, when ``customer_id`` was merged away), or None."""
    found = await members(pool, customer_id)
    if found is None:
        return None
    root, ids = found
    head = await _all(pool, "SELECT registered_at FROM customers WHERE id = %s", (root,))
    names = await _all(pool, "SELECT name FROM customers WHERE id = ANY(%s) AND name IS NOT NULL"
                             " ORDER BY name_at DESC LIMIT 1", (ids,))
    return {
        "id": root,
        "name": names[0]["name"] if names else None,
        "merged_into": root if root != customer_id else None,
        "registered_at": head[0]["registered_at"],
        "identifiers": await _identifiers(pool, ids),
        "stats": await _stats(pool, ids),
        "open_requests": await _open_requests(pool, ids),
        "history": await _history(pool, ids),
        "members": sorted(ids),
    }


async def card_identifiers(pool: AsyncConnectionPool, root: str) -> list[dict[str, Any]]:
    found = await members(pool, root)
    return await _identifiers(pool, found[1]) if found else []


async def _identifiers(pool: AsyncConnectionPool, ids: list[str]) -> list[dict[str, Any]]:
    return await _all(pool, "SELECT kind, value, bool_and(valid) AS valid, min(first_seen) AS first_seen,"
                            " max(last_seen) AS last_seen, (array_agg(channel ORDER BY first_seen))[1] AS channel"
                            " FROM customer_identifiers WHERE customer_id = ANY(%s)"
                            " GROUP BY kind, value ORDER BY kind, min(first_seen)", (ids,))


async def _stats(pool: AsyncConnectionPool, ids: list[str]) -> dict[str, Any]:
    since = datetime.now(UTC) - PREFERRED_WINDOW
    per_channel = await _all(pool, "SELECT channel, count(*) AS n,"
                                   " count(*) FILTER (WHERE direction = 'inbound' AND occurred_at >= %s) AS recent,"
                                   " min(occurred_at) AS first_at FROM timeline WHERE customer_id = ANY(%s)"
                                   " GROUP BY channel", (since, ids))
    last = await _all(pool, "SELECT agent_id, occurred_at FROM timeline WHERE customer_id = ANY(%s)"
                            " ORDER BY occurred_at DESC, seq DESC LIMIT 1", (ids,))
    agent = await _all(pool, "SELECT agent_id FROM timeline WHERE customer_id = ANY(%s) AND agent_id IS NOT NULL"
                             " ORDER BY occurred_at DESC, seq DESC LIMIT 1", (ids,))
    preferred = max(per_channel, key=lambda r: (r["recent"], r["n"]), default=None)
    return {
        "total": sum(r["n"] for r in per_channel),
        "by_channel": {r["channel"]: r["n"] for r in per_channel},
        "first_contact_at": min((r["first_at"] for r in per_channel), default=None),
        "last_contact_at": last[0]["occurred_at"] if last else None,
        "last_agent_id": agent[0]["agent_id"] if agent else None,
        # Preferred = most used inbound channel over the last 90 days.
        "preferred_channel": preferred["channel"] if preferred and preferred["recent"] else None,
    }


async def _open_requests(pool: AsyncConnectionPool, ids: list[str]) -> list[dict[str, Any]]:
    """Email/chat threads whose last message is inbound: the customer is waiting for an answer."""
    return await _all(pool, r"""
        SELECT channel, thread, interaction_id::text AS last_interaction_id, subject, occurred_at AS waiting_since
        FROM (
            SELECT DISTINCT ON (channel, thread) channel, thread, interaction_id, subject, occurred_at, direction
            FROM (
                SELECT *, coalesce(details->>'thread_id', details->>'conversation_id',
                                   regexp_replace(lower(coalesce(subject, '')),
                                                  '^((re|fw|fwd|ответ|отв|пересл)\s*:\s*)+', '')) AS thread
                FROM timeline WHERE customer_id = ANY(%s) AND channel IN ('email', 'chat')
            ) t
            ORDER BY channel, thread, occurred_at DESC, seq DESC
        ) latest
        WHERE direction = 'inbound' ORDER BY occurred_at""", (ids,))


async def _history(pool: AsyncConnectionPool, ids: list[str]) -> list[dict[str, Any]]:
    """Merges, splits and held-back links with their evidence: "why are these linked?"."""
    rows = await _all(pool, "SELECT customer_id::text AS customer_id, kind, other_ids, at, evidence"
                            " FROM customer_history WHERE customer_id = ANY(%s) ORDER BY at, kind", (ids,))
    for row in rows:
        row["other_ids"] = [str(o) for o in row["other_ids"]]
    return rows


async def timeline(pool: AsyncConnectionPool, ids: list[str], channel: str | None,
                   before: tuple[datetime, int] | None, limit: int) -> list[dict[str, Any]]:
    """Newest first across every member; ``limit + 1`` rows so the caller knows if a next page exists."""
    clauses, params = ["customer_id = ANY(%s)"], [ids]
    if channel:
        clauses.append("channel = %s")
        params.append(channel)  # type: ignore[arg-type]
    if before:
        clauses.append("(occurred_at, seq) < (%s, %s)")
        params.extend(before)  # type: ignore[arg-type]
    query = ("SELECT interaction_id AS id, external_id, channel, direction, occurred_at, agent_id,"
             " subject, body, details, seq FROM timeline WHERE " + " AND ".join(clauses)
             + " ORDER BY occurred_at DESC, seq DESC LIMIT %s")
    return await _all(pool, query, (*params, limit + 1))
