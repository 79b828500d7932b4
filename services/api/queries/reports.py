"""Read side of the supervisors' reports and segments, over projections kept for them.

Dormant customers read ``customer_contacts`` (last contact per customer) by its index,
birthdays ``customer_profiles.birth_mmdd``, activity ``activity_daily`` and ``work_requests``:
none scans the timeline when asked (kartoteka/migrations/030_work.sql).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from psycopg_pool import AsyncConnectionPool

from services.api.queries import fetch_all as rows
from services.api.queries.customers import _SUMMARIES

NAME = ("coalesce(p.name, (SELECT m.name FROM customers m WHERE coalesce(m.root_id, m.id) = r.id"
        " AND m.name IS NOT NULL ORDER BY m.name_at DESC LIMIT 1))")

# Each root once, through its member with the latest contact: dormant when even that is old.
DORMANT = f"""
SELECT r.id::text AS id, {NAME} AS name, cc.last_contact_at, p.owner, cc.customer_id::text AS via
FROM customer_contacts cc
JOIN customers c ON c.id = cc.customer_id
JOIN customers r ON r.id = coalesce(c.root_id, c.id)
LEFT JOIN customer_profiles p ON p.customer_id = r.id
WHERE cc.last_contact_at < %(cutoff)s {{filters}}
  AND NOT EXISTS (SELECT FROM customers o JOIN customer_contacts oc ON oc.customer_id = o.id
                  WHERE coalesce(o.root_id, o.id) = r.id AND o.id <> c.id
                    AND oc.last_contact_at > cc.last_contact_at)
ORDER BY cc.last_contact_at, cc.customer_id LIMIT %(limit)s
"""
# Per birthday key in window order, that key's customers by index (the LIMIT inside stops each
# scan early), so a wide window never sorts every customer born in it.
BIRTHDAYS = f"""
SELECT r.id::text AS id, {NAME.replace("p.name", "rp.name")} AS name, p.birth_date, p.pos,
       p.customer_id::text AS via
FROM (SELECT k.pos, q.customer_id, q.birth_date
      FROM unnest(%(keys)s::int[]) WITH ORDINALITY k(key, pos)
      CROSS JOIN LATERAL (SELECT customer_id, birth_date FROM customer_profiles p
                          WHERE p.birth_mmdd = k.key {{filters}}
                          ORDER BY customer_id LIMIT %(limit)s) q
      ORDER BY k.pos, q.customer_id LIMIT %(limit)s) p
JOIN customers c ON c.id = p.customer_id
JOIN customers r ON r.id = coalesce(c.root_id, c.id)
LEFT JOIN customer_profiles rp ON rp.customer_id = r.id
ORDER BY p.pos, p.customer_id
"""
KEYS = {"channel": "channel", "agent": "agent_id", "day": "day::text"}
REQUEST_KEYS = {"channel": "coalesce(channel, 'none')", "agent": "assignee",
                "day": "({at} AT TIME ZONE 'UTC')::date::text"}
# Interactions from the daily counts, requests from their read model, joined on the key: one
# round trip for the whole report.
ACTIVITY = """
WITH a AS (
    SELECT {key} AS key, sum(interactions)::bigint AS interactions, sum(inbound)::bigint AS inbound,
           sum(outbound)::bigint AS outbound, sum(calls_answered)::bigint AS calls_answered,
           sum(calls_missed)::bigint AS calls_missed, sum(talk_time_s)::float8 AS talk_time_s
    FROM activity_daily WHERE day >= %(from)s AND day <= %(to)s GROUP BY 1
), o AS (
    SELECT {opened} AS key, count(*) AS requests_opened FROM work_requests
    WHERE opened_at >= %(start)s AND opened_at < %(end)s GROUP BY 1
), s AS (
    SELECT {resolved} AS key, count(*) AS requests_resolved, percentile_cont(0.5) WITHIN GROUP
           (ORDER BY extract(epoch FROM resolved_at - opened_at)) AS median_resolution_s
    FROM work_requests WHERE resolved_at >= %(start)s AND resolved_at < %(end)s GROUP BY 1
), b AS (
    SELECT {due} AS key, count(*) AS sla_breached FROM work_requests
    WHERE due_at >= %(start)s AND due_at < %(end)s
      AND (resolved_at > due_at OR (resolved_at IS NULL AND due_at < now())) GROUP BY 1
)
SELECT * FROM a FULL JOIN o USING (key) FULL JOIN s USING (key) FULL JOIN b USING (key) ORDER BY key
"""
ACTIVITY_FIELDS = ("key", "interactions", "inbound", "outbound", "calls_answered", "calls_missed",
                   "talk_time_s", "requests_opened", "requests_resolved", "median_resolution_s",
                   "sla_breached")


async def dormant(pool: AsyncConnectionPool, *, cutoff: datetime, owner: str | None,
                  before: tuple[datetime, str] | None, limit: int) -> list[dict[str, Any]]:
    """Roots whose last contact is older than ``cutoff``, oldest first (``limit + 1`` rows)."""
    return await _listing(pool, DORMANT, {"cutoff": cutoff}, "cc", "(cc.last_contact_at, cc.customer_id)",
                          owner, before, limit)


async def birthdays(pool: AsyncConnectionPool, *, keys: list[int], owner: str | None,
                    before: tuple[int, str] | None, limit: int) -> list[dict[str, Any]]:
    """Customers whose birthday key is one of ``keys``, in the keys' order (``limit + 1`` rows)."""
    return await _listing(pool, BIRTHDAYS, {"keys": keys}, "p", "(k.pos, p.customer_id)", owner, before, limit)


async def _listing(pool: AsyncConnectionPool, query: str, params: dict[str, Any], owned: str, order: str,
                   owner: str | None, before: tuple[Any, str] | None, limit: int) -> list[dict[str, Any]]:
    """A report page: ``owned``.owner filtered, and after the cursor's position in ``order``."""
    filters, params = [], {**params, "limit": limit + 1}
    if owner is not None:
        filters.append(f"AND {owned}.owner = %(owner)s")
        params["owner"] = owner
    if before is not None:
        filters.append(f"AND {order} > (%(after)s, %(after_id)s::uuid)")
        params["after"], params["after_id"] = before
    return await rows(pool, query.format(filters=" ".join(filters)), params)


async def activity(pool: AsyncConnectionPool, *, start: date, end: date, by: str) -> list[dict[str, Any]]:
    """One row per key (channel, agent or day) over ``start`` .. ``end`` (whole UTC days)."""
    span = {"from": start, "to": end, "start": start, "end": end + timedelta(days=1)}
    keys = {at: REQUEST_KEYS[by].format(at=at) for at in ("opened_at", "resolved_at", "due_at")}
    query = ACTIVITY.format(key=KEYS[by], opened=keys["opened_at"], resolved=keys["resolved_at"],
                            due=keys["due_at"])
    return [activity_row(row) for row in await rows(pool, query, span)]


def activity_row(found: dict[str, Any]) -> dict[str, Any]:
    """Every field of the contract, zero where nothing happened (median: null without resolutions)."""
    row = {name: found.get(name) or 0 for name in ACTIVITY_FIELDS}
    median = found.get("median_resolution_s")
    row["median_resolution_s"] = round(float(median), 1) if median is not None else None
    row["talk_time_s"] = round(float(row["talk_time_s"]), 1)
    row["key"] = found["key"]
    return row


async def segment(pool: AsyncConnectionPool, *, tag: str | None, owner: str | None, company: str | None,
                  among: list[str] | None, limit: int) -> list[dict[str, Any]]:
    """Customers whose profile matches every filter given (``among``: only these roots)."""
    clauses: list[str] = []
    params: dict[str, Any] = {"limit": limit}
    for name, clause in (("tag", "p.tags @> ARRAY[%(tag)s]::text[]"), ("owner", "p.owner = %(owner)s"),
                         ("company", "lower(p.company) = lower(%(company)s)")):
        value = {"tag": tag, "owner": owner, "company": company}[name]
        if value is not None:
            clauses.append(clause)
            params[name] = value
    if among is not None:
        clauses.append("coalesce(c.root_id, c.id) = ANY(%(among)s::uuid[])")
        params["among"] = among
    found = ("SELECT id, 1.0::float8 AS score, row_number() OVER (ORDER BY id) AS ord FROM ("
             "SELECT DISTINCT coalesce(c.root_id, c.id) AS id FROM customer_profiles p"
             " JOIN customers c ON c.id = p.customer_id WHERE " + " AND ".join(clauses)
             + " ORDER BY 1 LIMIT %(limit)s) x")
    return await rows(pool, _SUMMARIES.format(found=found), params)
