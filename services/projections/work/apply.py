"""Pure: one work event -> the statements that apply it to the read models, in order.

Every statement is idempotent or guarded, and the store runs them only for an event id it has
not seen before (``work_log``), so a redelivered record changes nothing.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from events.work import (
    EmployeeHandedOver,
    NoteAdded,
    ProfileChanged,
    RequestOpened,
    RequestStatusChanged,
    TaskCreated,
    TaskDone,
)
from events.work_rules import TRANSITIONS
from services.projections.timeline.reports import thread_of

Statement = tuple[str, dict[str, Any]]

INSERT_NOTE = (
    "INSERT INTO work_notes (note_id, customer_id, seq, occurred_at, agent_id, body, outcome, interaction_id)"
    " VALUES (%(note_id)s, %(customer_id)s, %(seq)s, %(at)s, %(by)s, %(text)s, %(outcome)s, %(interaction_id)s)"
    " ON CONFLICT (note_id) DO NOTHING"
)
# Only the fields the change names are written; the others keep what they held.
PROFILE = (
    "INSERT INTO customer_profiles (customer_id, name, birth_date, company, tags, owner, updated_at, updated_by)"
    " VALUES (%(customer_id)s, %(name)s, %(birth_date)s, %(company)s, coalesce(%(tags)s, '{{}}'::text[]),"
    " %(owner)s, %(at)s, %(by)s)"
    " ON CONFLICT (customer_id) DO UPDATE SET {sets}, updated_at = excluded.updated_at,"
    " updated_by = excluded.updated_by"
)
INSERT_REQUEST = (
    "INSERT INTO work_requests (request_id, customer_id, subject, priority, status, assignee, opened_by,"
    " channel, thread, thread_since, interaction_id, opened_at, due_at, updated_at)"
    " SELECT %(request_id)s, %(customer_id)s, %(subject)s, %(priority)s, 'open', %(assignee)s, %(by)s,"
    " t.channel, %(thread)s, coalesce(t.occurred_at, %(opened_at)s), %(interaction_id)s, %(opened_at)s,"
    " %(due_at)s, %(opened_at)s"
    " FROM (SELECT 1) one LEFT JOIN timeline t ON t.interaction_id = %(interaction_id)s"
    " ON CONFLICT (request_id) DO NOTHING"
)
# Replies already stored attach now; later ones as the timeline stores them
# (services/projections/timeline/reports.py): the same pairs in whichever order both arrive.
ATTACH_REPLIES = (
    "INSERT INTO request_interactions (request_id, interaction_id, occurred_at)"
    " SELECT r.request_id, t.interaction_id, t.occurred_at FROM work_requests r"
    " JOIN customers m ON coalesce(m.root_id, m.id) = (SELECT coalesce(root_id, id) FROM customers"
    " WHERE id = r.customer_id)"
    " JOIN timeline t ON t.customer_id = m.id AND t.direction = 'inbound' AND t.occurred_at > r.thread_since"
    f" AND {thread_of('t')} = r.thread"
    " WHERE r.request_id = %(request_id)s AND r.thread IS NOT NULL ON CONFLICT DO NOTHING"
)
# The api checked the transition against what it read; a change that lost a race to another
# one is not applied (the guard on the current status), and its history row says so.
REQUEST_STATUS = (
    "WITH moved AS (UPDATE work_requests SET status = %(status)s::text, updated_at = %(at)s,"
    " first_response_at = coalesce(first_response_at, %(at)s),"
    " resolved_at = CASE WHEN %(status)s::text = 'open' THEN NULL"
    " WHEN %(status)s::text IN ('resolved', 'closed') THEN coalesce(resolved_at, %(at)s) ELSE resolved_at END,"
    " closed_at = CASE WHEN %(status)s::text = 'closed' THEN %(at)s ELSE closed_at END"
    " WHERE request_id = %(request_id)s AND status = ANY(%(from)s) RETURNING request_id)"
    " INSERT INTO request_changes (change_id, request_id, status, comment, by_employee, at)"
    " SELECT %(change_id)s, %(request_id)s, CASE WHEN EXISTS (SELECT FROM moved) THEN %(status)s::text"
    " ELSE 'refused:' || %(status)s::text END, %(comment)s, %(by)s, %(at)s ON CONFLICT (change_id) DO NOTHING"
)
INSERT_TASK = (
    "INSERT INTO work_tasks (task_id, customer_id, title, due_at, assignee, created_by, created_at)"
    " VALUES (%(task_id)s, %(customer_id)s, %(title)s, %(due_at)s, %(assignee)s, %(by)s, %(at)s)"
    " ON CONFLICT (task_id) DO NOTHING"
)
TASK_DONE = (
    "UPDATE work_tasks SET status = 'done', done_at = %(at)s, done_by = %(by)s"
    " WHERE task_id = %(task_id)s AND status = 'open'"
)
# One statement moves customers, open requests and open tasks, and records the counts.
HANDOVER = (
    "WITH customers AS (UPDATE customer_profiles SET owner = %(to_employee)s, updated_at = %(at)s,"
    " updated_by = %(by)s WHERE owner = %(from_employee)s RETURNING 1),"
    " requests AS (UPDATE work_requests SET assignee = %(to_employee)s, updated_at = %(at)s"
    " WHERE assignee = %(from_employee)s AND status IN ('open', 'pending') RETURNING 1),"
    " tasks AS (UPDATE work_tasks SET assignee = %(to_employee)s"
    " WHERE assignee = %(from_employee)s AND status = 'open' RETURNING 1),"
    " contacts AS (UPDATE customer_contacts SET owner = %(to_employee)s WHERE owner = %(from_employee)s)"
    " INSERT INTO work_handovers (handover_id, from_employee, to_employee, by_employee, at, customers,"
    " requests, tasks) SELECT %(handover_id)s, %(from_employee)s, %(to_employee)s, %(by)s, %(at)s,"
    " (SELECT count(*) FROM customers), (SELECT count(*) FROM requests), (SELECT count(*) FROM tasks)"
    " ON CONFLICT (handover_id) DO NOTHING"
)
# The dormant report reads one owner's customers by last contact (customer_contacts.owner).
OWNER_CONTACTS = (
    "INSERT INTO customer_contacts (customer_id, owner) VALUES (%(customer_id)s, %(owner)s)"
    " ON CONFLICT (customer_id) DO UPDATE SET owner = excluded.owner"
)
_PROFILE_COLUMNS = ("name", "birth_date", "company", "tags", "owner")


def statements_for(payload: BaseModel, seq: int) -> list[Statement]:
    """What applying ``payload`` (at offset ``seq`` of its partition) writes; nothing for an event
    this projection does not keep. A customer's work is on one partition, so the offset orders
    their notes, and a rebuild from the same log gives the same order."""
    if isinstance(payload, ProfileChanged):
        owner = [(OWNER_CONTACTS, payload.model_dump())] if "owner" in payload.fields else []
        return [_profile(payload), *owner]
    if isinstance(payload, RequestOpened):
        params = {**payload.model_dump(), "seq": seq}
        return [(INSERT_REQUEST, params), (ATTACH_REPLIES, params)]
    if isinstance(payload, RequestStatusChanged):
        sources = sorted(s for s, targets in TRANSITIONS.items() if payload.status in targets)
        return [(REQUEST_STATUS, {**payload.model_dump(), "from": sources})]
    simple: dict[type[BaseModel], str] = {
        NoteAdded: INSERT_NOTE, TaskCreated: INSERT_TASK,
        TaskDone: TASK_DONE, EmployeeHandedOver: HANDOVER,
    }
    statement = simple.get(type(payload))
    return [(statement, {**payload.model_dump(), "seq": seq})] if statement else []


def _profile(change: ProfileChanged) -> Statement:
    named = [c for c in _PROFILE_COLUMNS if c in change.fields]
    sets = ", ".join(
        f"{c} = coalesce(excluded.{c}, '{{}}'::text[])" if c == "tags" else f"{c} = excluded.{c}"
        for c in named
    )
    params = change.model_dump()
    return PROFILE.format(sets=sets), params
