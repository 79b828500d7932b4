"""The data-subject export's read side: everything about a customer's whole (the root and every
member merged into it), each part one query over its read model."""

from __future__ import annotations

from typing import Any

from psycopg_pool import AsyncConnectionPool

from services.api.queries import fetch_all
from services.api.queries.work import REQUEST_FIELDS, TASK_FIELDS

MAX_ROWS = 100_000

TIMELINE = (
    "SELECT interaction_id::text AS id, customer_id::text AS customer_id, external_id, channel, direction,"
    " occurred_at, agent_id, subject, body, details FROM timeline WHERE customer_id = ANY(%(ids)s::uuid[])"
    " ORDER BY occurred_at DESC, seq DESC LIMIT %(limit)s")
NOTES = (
    "SELECT note_id::text AS id, customer_id::text AS customer_id, occurred_at, agent_id, body AS text,"
    " outcome, interaction_id::text AS interaction_id FROM work_notes WHERE customer_id = ANY(%(ids)s::uuid[])"
    " ORDER BY occurred_at DESC, seq DESC LIMIT %(limit)s")
PROFILES = (
    "SELECT customer_id::text AS customer_id, name, birth_date, company, tags, owner, updated_at, updated_by"
    " FROM customer_profiles WHERE customer_id = ANY(%(ids)s::uuid[]) ORDER BY updated_at")
REQUESTS = (f"SELECT {REQUEST_FIELDS}, array(SELECT json_build_object('status', c.status, 'comment', c.comment,"  # noqa: S608
            " 'by', c.by_employee, 'at', c.at) FROM request_changes c WHERE c.request_id = r.request_id"
            " ORDER BY c.at) AS changes FROM work_requests r WHERE r.customer_id = ANY(%(ids)s::uuid[])"
            " ORDER BY r.opened_at LIMIT %(limit)s")
TASKS = (f"SELECT {TASK_FIELDS} FROM work_tasks t WHERE t.customer_id = ANY(%(ids)s::uuid[])"  # noqa: S608
         " ORDER BY t.due_at LIMIT %(limit)s")
# Who saw or changed the person's data (GDPR art. 15: the recipients); the queries employees
# typed are other people's business and stay in the audit.
ACCESSES = (
    "SELECT id::text AS id, employee_id, role, action, at, route FROM access_log"
    " WHERE customer_ids && %(ids)s::text[] ORDER BY seq DESC LIMIT %(limit)s")


async def export(pool: AsyncConnectionPool, members: list[str]) -> dict[str, Any]:
    """The parts of the export besides the card, for ``members`` (root included)."""
    params = {"ids": members, "limit": MAX_ROWS}
    parts: dict[str, Any] = {name: await fetch_all(pool, query, params) for name, query in (
        ("timeline", TIMELINE), ("notes", NOTES), ("profiles", PROFILES), ("requests", REQUESTS),
        ("tasks", TASKS), ("access_records", ACCESSES))}
    parts["truncated"] = any(len(v) >= MAX_ROWS for v in parts.values())
    return parts
