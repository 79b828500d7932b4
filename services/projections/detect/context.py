"""Who an employee is to the detectors: status, team, working time, and the customers they have
a business reason to read. Read from the employees, timeline and work read models.

A customer is the employee's to read when they (or, for a supervisor, anyone of their team)
handled an interaction with them in the look-back, own them, or have a request or a task on
them (assigned, or opened / created by them), or the customer's own inbound contact reached
them: routed to them (``agent_id``, handled or not) or still unassigned in the queue / a
screen-pop when they opened the customer within ``LED_BY_CONTACT`` after it. Everything else
counts as without reason.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from psycopg import Cursor

from services.projections.detect.detectors import DEFAULT_CONFIG, DetectorConfig, EmployeeContext

log = logging.getLogger(__name__)

EMPLOYEE = (
    "SELECT team, status, role, notice_given_at, timezone, work_start, work_end, schedule,"
    " schedule_from FROM employees WHERE employee_id = %s"
)
TEAM = "SELECT employee_id FROM employees WHERE team = %s"
KNOWN = (
    "SELECT customer_id::text AS id FROM timeline"
    " WHERE agent_id = ANY(%(agents)s) AND occurred_at >= %(since)s AND occurred_at < %(until)s"
    " UNION SELECT customer_id::text FROM customer_profiles WHERE owner = %(me)s"
    " UNION SELECT customer_id::text FROM work_requests WHERE assignee = %(me)s OR opened_by = %(me)s"
    " UNION SELECT customer_id::text FROM work_tasks WHERE assignee = %(me)s OR created_by = %(me)s"
)
# A search or card a customer's own call or chat led to: an inbound contact not yet assigned to
# anyone (queue, screen-pop) and the employee's read of that customer shortly after it.
LED_BY_CONTACT = timedelta(minutes=15)
INBOUND = (
    "SELECT customer_id::text AS id, occurred_at AS at FROM timeline WHERE direction = 'inbound'"
    " AND (agent_id IS NULL OR agent_id = %(me)s)"
    " AND occurred_at >= %(early)s AND occurred_at < %(until)s"
)
READS = (
    "SELECT customer_ids, at FROM {source} WHERE employee_id = %(me)s"
    " AND at >= %(since)s AND at < %(until)s"
)
# The team's usual hours for one who has no history: per local hour, the peer-days with
# customer-data activity in it, and how many peer-days there were.
TEAM_HOURS = (
    "SELECT h, count(*) AS days FROM ("
    " SELECT DISTINCT d.employee_id, (d.at AT TIME ZONE %(tz)s)::date AS day,"
    "  extract(hour FROM d.at AT TIME ZONE %(tz)s)::int AS h FROM {source} d"
    " JOIN employees e ON e.employee_id = d.employee_id"
    " WHERE e.team = %(team)s AND d.employee_id <> %(me)s AND d.action = ANY(%(actions)s)"
    " AND d.at >= %(since)s AND d.at < %(until)s) x GROUP BY h"
)
TEAM_DAYS = (
    "SELECT count(*) AS n FROM (SELECT DISTINCT d.employee_id, (d.at AT TIME ZONE %(tz)s)::date"
    " FROM {source} d JOIN employees e ON e.employee_id = d.employee_id"
    " WHERE e.team = %(team)s AND d.employee_id <> %(me)s AND d.action = ANY(%(actions)s)"
    " AND d.at >= %(since)s AND d.at < %(until)s) x"
)


def employee_context(curs: Cursor[Any], source: str, employee_id: str, since: datetime,
                     until: datetime, default_zone: str) -> EmployeeContext:
    """The context of one evaluation over ``since`` .. ``until``."""
    row = curs.execute(EMPLOYEE, (employee_id,)).fetchone() or {}
    agents = [employee_id]
    if row.get("role") == "supervisor" and row.get("team"):
        agents += [r["employee_id"] for r in curs.execute(TEAM, (row["team"],)).fetchall()]
    params = {"agents": agents, "me": employee_id, "since": since, "until": until}
    known = {r["id"] for r in curs.execute(KNOWN, params).fetchall()}
    contacts = [(r["id"], r["at"]) for r in curs.execute(
        INBOUND, {**params, "early": since - LED_BY_CONTACT}).fetchall()]
    if contacts:
        reads = [(tuple(r["customer_ids"]), r["at"])
                 for r in curs.execute(READS.format(source=source), params).fetchall()]
        known |= led_by_contact(contacts, reads)
    ctx = build_context(employee_id, row, known, default_zone)
    return with_team_hours(curs, source, ctx, until)


def led_by_contact(contacts: Sequence[tuple[str, datetime]],
                   reads: Sequence[tuple[Sequence[str], datetime]],
                   within: timedelta = LED_BY_CONTACT) -> set[str]:
    """Customers whose own inbound contact (customer id, time) came at most ``within`` before
    one of the employee's reads (customer ids revealed, time) that revealed them. Only the
    calling customer gets the reason, not the other names on the same result list."""
    contacted: dict[str, list[datetime]] = {}
    for customer, at in contacts:
        contacted.setdefault(customer, []).append(at)
    return {customer for customers, at in reads for customer in customers
            if any(timedelta(0) <= at - t <= within for t in contacted.get(customer, ()))}


def with_team_hours(curs: Cursor[Any], source: str, ctx: EmployeeContext, until: datetime,
                    cfg: DetectorConfig = DEFAULT_CONFIG) -> EmployeeContext:
    """Only what the off-hours detector may need: none with a schedule or set hours."""
    if ctx.schedule or ctx.work_hours or not ctx.team:
        return ctx
    params = {"tz": ctx.timezone, "team": ctx.team, "me": ctx.employee_id,
              "actions": sorted(cfg.activity_actions), "until": until,
              "since": until - timedelta(days=cfg.hours_baseline_days)}
    days = curs.execute(TEAM_DAYS.format(source=source), params).fetchone()
    hours = curs.execute(TEAM_HOURS.format(source=source), params).fetchall()
    return replace(ctx, team_hours={r["h"]: r["days"] for r in hours},
                   team_days=int(days["n"]) if days else 0)


def build_context(
    employee_id: str, row: dict[str, Any], known: Iterable[str], default_zone: str
) -> EmployeeContext:
    """An EmployeeContext from an ``employees`` row, falling back to defaults for bad values
    (a detector batch must never fail on one employee's odd settings)."""
    values: dict[str, Any] = {
        "employee_id": employee_id,
        "team": row.get("team"),
        "status": row.get("status") or "active",
        "notice_given_at": row.get("notice_given_at"),
        "known_customer_ids": frozenset(known),
        "timezone": row.get("timezone") or default_zone,
    }
    if row.get("work_start") is not None and row.get("work_end") is not None:
        values["work_hours"] = (row["work_start"], row["work_end"])
    if row.get("schedule"):
        values["schedule"] = row["schedule"]
        start = row.get("schedule_from")
        values["schedule_from"] = start.astimezone(ZoneInfo(values["timezone"])).date() if start else None
    try:
        return EmployeeContext(**values)
    except ValueError as exc:
        log.warning("bad employee context; defaults used", extra={"employee": employee_id,
                                                                   "error": str(exc)})
        values.pop("work_hours", None)
        values.pop("schedule_from", None)
        return EmployeeContext(**{**values, "timezone": default_zone})
