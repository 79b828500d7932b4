"""Read side of the agent's work: requests, tasks, employees and the interactions work names.

Plain SQL over the work projection's read models (kartoteka/migrations/030_work.sql).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from psycopg_pool import AsyncConnectionPool

from services.api.queries import fetch_all

REQUEST_FIELDS = (
    "r.request_id::text AS id, r.customer_id::text AS customer_id, r.subject, r.status, r.priority,"
    " r.assignee, r.opened_at, r.due_at, r.first_response_at, r.resolved_at, r.channel,"
    " r.interaction_id::text AS interaction_id,"
    " r.status IN ('open', 'pending') AND r.due_at < now() AS overdue,"
    " coalesce(r.resolved_at, now()) > r.due_at AS sla_breached,"
    " array(SELECT i.interaction_id::text FROM request_interactions i WHERE i.request_id = r.request_id"
    " ORDER BY i.occurred_at) AS replies"
)
TASK_FIELDS = (
    "t.task_id::text AS id, t.customer_id::text AS customer_id, t.title, t.due_at, t.assignee, t.status,"
    " t.created_by, t.created_at, t.done_at"
)


rows = fetch_all


async def one(pool: AsyncConnectionPool, query: str, params: dict[str, Any]) -> dict[str, Any] | None:
    found = await fetch_all(pool, query, params)
    return found[0] if found else None


def as_uuid(raw: str) -> str | None:
    """The id in canonical form, or None for text that is no id (an unknown id: 404)."""
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        return None


async def interaction(pool: AsyncConnectionPool, members: list[str], interaction_id: str
                      ) -> dict[str, Any] | None:
    """An interaction of one of ``members``: its channel and its thread (mail thread or chat)."""
    # The keys of services/projections/timeline/reports.py thread_of (a service imports no other).
    return await one(pool, "SELECT channel, coalesce(details->>'thread_id', details->>'conversation_id',"
                           " details->>'chat_id') AS thread FROM timeline WHERE interaction_id = %(id)s"
                           " AND customer_id = ANY(%(members)s)", {"id": interaction_id, "members": members})


async def request(pool: AsyncConnectionPool, request_id: str) -> dict[str, Any] | None:
    return await one(pool, f"SELECT {REQUEST_FIELDS} FROM work_requests r"  # noqa: S608
                           " WHERE r.request_id = %(id)s", {"id": request_id})


async def task(pool: AsyncConnectionPool, task_id: str) -> dict[str, Any] | None:
    return await one(pool, f"SELECT {TASK_FIELDS} FROM work_tasks t WHERE t.task_id = %(id)s",  # noqa: S608
                     {"id": task_id})


async def employee(pool: AsyncConnectionPool, employee_id: str) -> dict[str, Any] | None:
    """The employee's status and team, or None for one never recorded."""
    return await one(pool, "SELECT status, team FROM employees WHERE employee_id = %(id)s",
                     {"id": employee_id})


async def team_of(pool: AsyncConnectionPool, employee_id: str) -> list[str] | None:
    """Everyone in ``employee_id``'s team (themself included), or None when they have no team."""
    found = await rows(pool, "SELECT m.employee_id FROM employees e JOIN employees m ON m.team = e.team"
                             " WHERE e.employee_id = %(id)s AND e.team IS NOT NULL", {"id": employee_id})
    return [r["employee_id"] for r in found] or None


async def requests(pool: AsyncConnectionPool, *, members: list[str] | None, assignee: str | None,
                   status: str | None, overdue: bool | None, before: tuple[datetime, str] | None,
                   limit: int) -> list[dict[str, Any]]:
    """Newest first; ``limit + 1`` rows so the caller knows whether a next page exists."""
    clauses, params = ["true"], {"limit": limit + 1}
    for column, value in (("customer_id", members), ("assignee", assignee), ("status", status)):
        if value is not None:
            clauses.append(f"r.{column} = ANY(%({column})s)" if column == "customer_id"
                           else f"r.{column} = %({column})s")
            params[column] = value  # type: ignore[assignment]
    if overdue is not None:
        late = "(r.status IN ('open', 'pending') AND r.due_at < now())"
        clauses.append(late if overdue else f"NOT {late}")
    if before is not None:
        clauses.append("(r.opened_at, r.request_id) < (%(at)s, %(rid)s::uuid)")
        params["at"], params["rid"] = before  # type: ignore[assignment]
    return await rows(pool, f"SELECT {REQUEST_FIELDS} FROM work_requests r WHERE "  # noqa: S608
                            f"{' AND '.join(clauses)} ORDER BY r.opened_at DESC, r.request_id DESC"
                            " LIMIT %(limit)s", params)


async def tasks(pool: AsyncConnectionPool, *, assignees: list[str] | None, status: str | None,
                due_before: datetime | None, before: tuple[datetime, str] | None,
                limit: int) -> list[dict[str, Any]]:
    """Soonest due first; ``assignees`` None means everyone's."""
    clauses, params = ["true"], {"limit": limit + 1}
    if assignees is not None:
        clauses.append("t.assignee = ANY(%(assignees)s)")
        params["assignees"] = assignees  # type: ignore[assignment]
    if status is not None:
        clauses.append("t.status = %(status)s")
        params["status"] = status  # type: ignore[assignment]
    if due_before is not None:
        clauses.append("t.due_at < %(due_before)s")
        params["due_before"] = due_before  # type: ignore[assignment]
    if before is not None:
        clauses.append("(t.due_at, t.task_id) > (%(at)s, %(tid)s::uuid)")
        params["at"], params["tid"] = before  # type: ignore[assignment]
    return await rows(pool, f"SELECT {TASK_FIELDS} FROM work_tasks t WHERE "  # noqa: S608
                            f"{' AND '.join(clauses)} ORDER BY t.due_at, t.task_id LIMIT %(limit)s", params)


async def owned_by(pool: AsyncConnectionPool, employee_id: str, limit: int = 500) -> list[str]:
    """Customers ``employee_id`` owns now (the first ``limit``): what a handover touches."""
    found = await rows(pool, "SELECT customer_id::text AS id FROM customer_profiles WHERE owner = %(id)s"
                             " ORDER BY customer_id LIMIT %(limit)s", {"id": employee_id, "limit": limit})
    return [r["id"] for r in found]
