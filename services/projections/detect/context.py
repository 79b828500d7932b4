"""Who an employee is to the detectors: status, team, working time, and the customers they have
a business reason to read. Read from the employees, timeline and work read models.

A customer is the employee's to read when they (or, for a supervisor, anyone of their team)
handled an interaction with them in the look-back, own them, or have a request or a task on
them (assigned, or opened / created by them). Everything else counts as without reason.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
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
    ctx = build_context(employee_id, row, known, default_zone)
    return with_team_hours(curs, source, ctx, until)


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
