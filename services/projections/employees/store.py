"""The employees store: status changes and tracked positions in one Postgres transaction."""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore

from events.catalog import EmployeeStatusChanged
from services.projections.tracking import Positions

# Older changes never overwrite newer ones (a replay from offset zero re-applies them all);
# absent team/role/hours keep what was known; notice is remembered until reinstatement.
UPSERT = """
INSERT INTO employees (employee_id, status, team, role, timezone, work_start, work_end,
                       effective_at, notice_given_at, changed_at, changed_by, schedule,
                       schedule_from)
VALUES (%(employee_id)s, %(status)s, %(team)s, %(role)s, %(timezone)s, %(work_start)s,
        %(work_end)s, %(effective_at)s, %(notice_given_at)s, %(changed_at)s, %(changed_by)s,
        %(schedule)s, CASE WHEN %(schedule)s::text IS NULL THEN NULL ELSE %(effective_at)s END)
ON CONFLICT (employee_id) DO UPDATE SET
    status = excluded.status,
    team = coalesce(excluded.team, employees.team),
    role = coalesce(excluded.role, employees.role),
    timezone = coalesce(excluded.timezone, employees.timezone),
    work_start = coalesce(excluded.work_start, employees.work_start),
    work_end = coalesce(excluded.work_end, employees.work_end),
    schedule = coalesce(excluded.schedule, employees.schedule),
    schedule_from = coalesce(excluded.schedule_from, employees.schedule_from),
    effective_at = excluded.effective_at,
    notice_given_at = CASE WHEN excluded.status = 'active' THEN NULL
                           ELSE coalesce(employees.notice_given_at, excluded.notice_given_at) END,
    changed_at = excluded.changed_at,
    changed_by = excluded.changed_by,
    updated_at = now()
WHERE employees.changed_at <= excluded.changed_at
"""


def employee_row(change: EmployeeStatusChanged) -> dict[str, Any]:
    """Columns of one status change; leaving without notice counts as notice from then on."""
    hours = change.work_hours or (None, None)
    return {
        "employee_id": change.employee_id,
        "status": change.status,
        "team": change.team,
        "role": change.role,
        "timezone": change.timezone,
        "work_start": hours[0],
        "work_end": hours[1],
        "effective_at": change.effective_at,
        "notice_given_at": change.effective_at if change.status != "active" else None,
        "changed_at": change.at,
        "changed_by": change.changed_by,
        "schedule": change.schedule,
    }


class EmployeeStore:
    """Upserts employees; a redelivered change is harmless."""

    def __init__(self, datastore: PostgresDatastore, positions: Positions) -> None:
        self.datastore = datastore
        self.positions = positions

    def apply(self, rows: list[dict[str, Any]], trackings: list[Tracking]) -> None:
        self.positions.commit([(UPSERT, rows)], trackings)
