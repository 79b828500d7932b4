"""The customer read model (customers, customer_identifiers, customer_names): card, search, members.

A merged customer keeps its rows under its own id; its root (``customers.root_id``) is
the card it answers with, and reads gather every member of that root.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg_pool import AsyncConnectionPool

from events.identifiers import normalise_email, normalise_handle, normalise_phone
from events.names import folded, latin
from services.api.queries import fetch_all

PREFERRED_WINDOW = timedelta(days=90)
MIN_NAME_SIMILARITY = 0.3
_DIGITS = re.compile(r"^[\d\s()+\-.]{5,}$")

ROOT = "SELECT coalesce(root_id, id) AS root FROM customers WHERE id = %s"


async def members(pool: AsyncConnectionPool, customer_id: str) -> tuple[str, list[str]] | None:
    """The root a customer answers with, and every customer merged into it."""
    rows = await fetch_all(pool, f"SELECT m.id::text AS id, r.root::text AS root FROM ({ROOT}) r"  # noqa: S608
                            " JOIN customers m ON coalesce(m.root_id, m.id) = r.root", (customer_id,))
    if not rows:
        return None
    return rows[0]["root"], [r["id"] for r in rows]


async def search(pool: AsyncConnectionPool, q: str, limit: int) -> list[dict[str, Any]]:
    """Phone in any spelling, email or handle exactly; otherwise names, typo- and order-tolerant."""
    exact = _identifier_of(q)
    if exact is not None:
        found = ("SELECT id, 1.0::float8 AS score, row_number() OVER () AS ord FROM ("
                 "SELECT DISTINCT coalesce(c.root_id, c.id) AS id FROM customer_identifiers i"
                 " JOIN customers c ON c.id = i.customer_id"
                 " WHERE i.kind = %(kind)s AND i.value = %(value)s LIMIT %(limit)s) x")
        params: dict[str, Any] = {"kind": exact[0], "value": exact[1], "limit": limit}
    else:
        found = _BY_NAME
        params = {"q": folded(q), "lat": latin(q), "k": max(20, limit), "over": 2 * limit,
                  "min": MIN_NAME_SIMILARITY, "limit": limit}
    # One statement: candidates and their summaries, so a search is one round trip.
    rows = await fetch_all(pool, _SUMMARIES.format(found=found), params)  # type: ignore[arg-type]
    return [{"id": r["id"], "name": r["name"], "phones": r["phones"], "emails": r["emails"],
             "score": 1.0 if exact is not None else round(float(r["score"]), 4)} for r in rows]


def _identifier_of(q: str) -> tuple[str, str] | None:
    if "@" in q and (email := normalise_email(q)):
        return "email", email
    if _DIGITS.match(q) and (phone := normalise_phone(q)):
        return "phone", phone
    if ":" in q and (handle := normalise_handle(q)):
        return "handle", handle
    return None


# Nearest distinct names by trigram distance in both scripts (typos, word order; ё = е), among
# the names seen in traffic (customer_names) and those employees set (customer_profiles),
# re-scored by whole-name and word similarity plus russian stems, then expanded to their
# customers by btree. Searching names rather than customers keeps a common name (hundreds of
# namesakes) as cheap as a rare one: each name yields only its first ``limit`` distinct roots,
# in index order and from the index alone (migration 096), and an Incremental Sort on the
# names' score stops the expansion once enough customers are found. ``over`` leaves room for a
# root reached through several of its members' names.
_BY_NAME = """
    WITH candidates AS (
        (SELECT search_name, search_latin, search_tsv FROM customer_names
         ORDER BY search_name <-> %(q)s LIMIT %(k)s)
        UNION
        (SELECT search_name, search_latin, search_tsv FROM customer_names WHERE search_latin IS NOT NULL
         ORDER BY search_latin <-> %(lat)s LIMIT %(k)s)
        UNION
        (SELECT search_name, search_latin, search_tsv FROM customer_profiles WHERE name IS NOT NULL
         ORDER BY search_name <-> %(q)s LIMIT %(k)s)
        UNION
        (SELECT search_name, search_latin, search_tsv FROM customer_profiles WHERE search_latin IS NOT NULL
         ORDER BY search_latin <-> %(lat)s LIMIT %(k)s)
    ), scored AS MATERIALIZED (
        SELECT search_name,
               max(greatest(similarity(search_name, %(q)s), word_similarity(%(q)s, search_name),
                            similarity(search_latin, %(lat)s), word_similarity(%(lat)s, search_latin))
                   + 0.5 * ts_rank(search_tsv, plainto_tsquery('russian', %(q)s))) AS score
        FROM candidates GROUP BY search_name
    ), reached AS (
        SELECT r.id, n.score
        FROM (SELECT * FROM scored WHERE score >= %(min)s ORDER BY score DESC LIMIT %(limit)s) n
        CROSS JOIN LATERAL (
            (SELECT DISTINCT coalesce(c.root_id, c.id) AS id FROM customers c WHERE c.search_name = n.search_name
             ORDER BY 1 LIMIT %(limit)s)
            UNION
            (SELECT DISTINCT coalesce(c.root_id, c.id) FROM customer_profiles p JOIN customers c ON c.id = p.customer_id
             WHERE p.search_name = n.search_name AND p.name IS NOT NULL ORDER BY 1 LIMIT %(limit)s)
            ORDER BY 1 LIMIT %(limit)s) r
        ORDER BY n.score DESC, r.id LIMIT %(over)s
    ), best AS (
        SELECT id, max(score) AS score FROM reached GROUP BY id ORDER BY score DESC, id LIMIT %(limit)s
    )
    SELECT id, score, row_number() OVER (ORDER BY score DESC, id) AS ord FROM best"""

_SUMMARIES = """
    SELECT r.id::text AS id, f.score, f.ord,
           -- A name an employee set (customer_profiles) wins over names seen in traffic; the
           -- root's own first, then its members' (as on the card).
           coalesce((SELECT p.name FROM customers m JOIN customer_profiles p ON p.customer_id = m.id
                     WHERE coalesce(m.root_id, m.id) = r.id AND p.name IS NOT NULL
                     ORDER BY p.customer_id = r.id DESC, p.updated_at DESC LIMIT 1),
                    (SELECT m.name FROM customers m WHERE coalesce(m.root_id, m.id) = r.id AND m.name IS NOT NULL
                     ORDER BY m.name_at DESC LIMIT 1)) AS name,
           array(SELECT DISTINCT i.value FROM customer_identifiers i JOIN customers m ON m.id = i.customer_id
                 WHERE coalesce(m.root_id, m.id) = r.id AND i.kind = 'phone' AND i.valid) AS phones,
           array(SELECT DISTINCT i.value FROM customer_identifiers i JOIN customers m ON m.id = i.customer_id
                 WHERE coalesce(m.root_id, m.id) = r.id AND i.kind = 'email') AS emails
    FROM ({found}) f JOIN customers r ON r.id = f.id ORDER BY f.ord"""


# The whole card in one statement, as JSON text built by PostgreSQL: one round trip and no
# Python objects per field on the hot read path. The fields are those of the card() below.
CARD = r"""
WITH r AS (SELECT coalesce(root_id, id) AS root FROM customers WHERE id = %(id)s),
m AS (SELECT c.id, c.name, c.name_at FROM r JOIN customers c ON coalesce(c.root_id, c.id) = r.root),
t AS (SELECT channel, direction, occurred_at, seq, agent_id, subject, details, interaction_id
      FROM timeline WHERE customer_id = ANY(ARRAY(SELECT id FROM m))),
per_channel AS (
    SELECT channel::text AS channel, count(*) AS n, min(occurred_at) AS first_at,
           count(*) FILTER (WHERE direction = 'inbound' AND occurred_at >= %(since)s) AS recent
    FROM t GROUP BY channel
),
identifiers AS (
    SELECT kind, value, bool_and(valid) AS valid, min(first_seen) AS first_seen,
           max(last_seen) AS last_seen, (array_agg(channel ORDER BY first_seen))[1] AS channel
    FROM customer_identifiers WHERE customer_id = ANY(ARRAY(SELECT id FROM m))
    GROUP BY kind, value
),
open_requests AS (
    SELECT request_id::text AS id, subject, status, priority, assignee, opened_at, due_at
    FROM work_requests WHERE customer_id = ANY(ARRAY(SELECT id FROM m)) AND status IN ('open', 'pending')
),
-- Profiles set by employees (work projection); the root's own wins over its members' fields.
prof AS (
    SELECT p.*, p.customer_id = r.root AS own FROM r, customer_profiles p
    WHERE p.customer_id = ANY(ARRAY(SELECT id FROM m))
),
history AS (
    SELECT customer_id::text AS customer_id, kind, other_ids, at, evidence
    FROM customer_history WHERE customer_id = ANY(ARRAY(SELECT id FROM m))
),
-- Matching attributes the duplicate finder keeps, each with where it was first seen.
attributes AS (
    SELECT attribute, value, min(seen_at) AS first_seen, max(seen_at) AS last_seen,
           (array_agg(channel ORDER BY seen_at))[1] AS channel, (array_agg(source ORDER BY seen_at))[1] AS source
    FROM match_attributes WHERE customer_id = ANY(ARRAY(SELECT id FROM m))
      AND attribute IN ('name', 'birth_date', 'address', 'company')
    GROUP BY attribute, value
)
SELECT r.root::text AS id, json_build_object(
    'id', r.root::text,
    'name', coalesce((SELECT name FROM prof WHERE name IS NOT NULL ORDER BY own DESC, updated_at DESC LIMIT 1),
                     (SELECT name FROM m WHERE name IS NOT NULL ORDER BY name_at DESC LIMIT 1)),
    'birth_date', (SELECT birth_date FROM prof WHERE birth_date IS NOT NULL ORDER BY own DESC, updated_at DESC LIMIT 1),
    'company', (SELECT company FROM prof WHERE company IS NOT NULL ORDER BY own DESC, updated_at DESC LIMIT 1),
    'owner', (SELECT owner FROM prof WHERE owner IS NOT NULL ORDER BY own DESC, updated_at DESC LIMIT 1),
    'tags', coalesce((SELECT json_agg(DISTINCT tag ORDER BY tag) FROM prof, unnest(prof.tags) tag), '[]'),
    'merged_into', CASE WHEN r.root <> %(id)s::uuid THEN r.root::text END,
    'registered_at', (SELECT registered_at FROM customers WHERE id = r.root),
    'identifiers', coalesce((SELECT json_agg(i ORDER BY i.kind, i.first_seen) FROM identifiers i), '[]'),
    'attributes', coalesce((SELECT json_agg(a ORDER BY a.attribute, a.first_seen) FROM attributes a), '[]'),
    'stats', json_build_object(
        'total', (SELECT coalesce(sum(n), 0) FROM per_channel),
        'by_channel', coalesce((SELECT json_object_agg(channel, n) FROM per_channel), '{}'),
        'first_contact_at', (SELECT min(first_at) FROM per_channel),
        'last_contact_at', (SELECT occurred_at FROM t ORDER BY occurred_at DESC, seq DESC LIMIT 1),
        'last_agent_id', (SELECT agent_id FROM t WHERE agent_id IS NOT NULL
                          ORDER BY occurred_at DESC, seq DESC LIMIT 1),
        -- Preferred = most used inbound channel over the last 90 days.
        'preferred_channel', (SELECT channel FROM per_channel WHERE recent > 0
                              ORDER BY recent DESC, n DESC LIMIT 1)
    ),
    'open_requests', coalesce((SELECT json_agg(o ORDER BY o.opened_at) FROM open_requests o), '[]'),
    'history', coalesce((SELECT json_agg(h ORDER BY h.at, h.kind) FROM history h), '[]'),
    'members', (SELECT json_agg(id::text ORDER BY id::text COLLATE "C") FROM m)
)::text AS card
FROM r
"""


async def card_json(pool: AsyncConnectionPool, customer_id: str) -> tuple[str, bytes] | None:
    """The card's root id and the card as JSON bytes (see ``card``), or None."""
    since = datetime.now(UTC) - PREFERRED_WINDOW
    async with pool.connection() as conn:
        cursor = await conn.execute(CARD, {"id": customer_id, "since": since})  # type: ignore[arg-type]
        row = await cursor.fetchone()
    if row is None:
        return None
    return row[0], row[1].encode()


async def card(pool: AsyncConnectionPool, customer_id: str) -> dict[str, Any] | None:
    """The unified customer card (of the survivor, when ``customer_id`` was merged away), or None:
    id, name, merged_into, registered_at, identifiers, stats, open_requests, history, members."""
    found = await card_json(pool, customer_id)
    return json.loads(found[1]) if found else None


async def card_identifiers(pool: AsyncConnectionPool, root: str) -> list[dict[str, Any]]:
    found = await members(pool, root)
    return await _identifiers(pool, found[1]) if found else []


async def _identifiers(pool: AsyncConnectionPool, ids: list[str]) -> list[dict[str, Any]]:
    return await fetch_all(pool, "SELECT kind, value, bool_and(valid) AS valid, min(first_seen) AS first_seen,"
                            " max(last_seen) AS last_seen, (array_agg(channel ORDER BY first_seen))[1] AS channel"
                            " FROM customer_identifiers WHERE customer_id = ANY(%s)"
                            " GROUP BY kind, value ORDER BY kind, min(first_seen)", (ids,))
