"""The alerts read model: alerts, their workflow history and the suppressions false positives
set. Used by the JSON routes and the console pages alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg_pool import AsyncConnectionPool

from services.api.queries import fetch_all

ALERT_COLUMNS = (
    "a.id, a.employee_id, a.kind, a.severity, a.score, a.evidence, a.raised_at, a.window_start,"
    " a.window_end, a.status, a.status_at, a.status_by, a.status_comment, a.suppressed_by,"
    " s.until AS suppresses_until"
)
FROM_ALERTS = "FROM alerts a LEFT JOIN alert_suppressions s ON s.alert_id = a.id"


@dataclass(frozen=True)
class AlertFilter:
    """Which alerts an officer asks for; ``viewer``'s own alerts are never among them (an
    officer's alert on themself is for another officer's eyes)."""

    viewer: str
    employee_id: str | None = None
    kind: str | None = None
    severity: str | None = None
    status: str | None = None

    def where(self, before: tuple[datetime, str] | None) -> tuple[str, list[Any]]:
        clauses: list[str] = ["a.employee_id <> %s"]
        params: list[Any] = [self.viewer]
        for clause, value in (("a.employee_id = %s", self.employee_id), ("a.kind = %s", self.kind),
                              ("a.severity = %s", self.severity), ("a.status = %s", self.status)):
            if value is not None:
                clauses.append(clause)
                params.append(value)
        if before is not None:
            clauses.append("(a.raised_at, a.id) < (%s, %s::uuid)")
            params.extend(before)
        return " AND ".join(clauses), params


async def alerts_page(pool: AsyncConnectionPool, where: AlertFilter,
                      before: tuple[datetime, str] | None, limit: int) -> list[dict[str, Any]]:
    """Alerts newest first, filtered; ``limit + 1`` rows."""
    clause, params = where.where(before)
    query = (f"SELECT {ALERT_COLUMNS} {FROM_ALERTS} WHERE {clause}"  # noqa: S608 - fixed text
             " ORDER BY a.raised_at DESC, a.id DESC LIMIT %s")
    return await fetch_all(pool, query, (*params, limit + 1))


async def alert(pool: AsyncConnectionPool, alert_id: str, viewer: str) -> dict[str, Any] | None:
    """One alert the viewer may see (not their own), or None."""
    rows = await fetch_all(pool, f"SELECT {ALERT_COLUMNS} {FROM_ALERTS}"  # noqa: S608
                          " WHERE a.id = %s::uuid AND a.employee_id <> %s", (alert_id, viewer))
    return rows[0] if rows else None


async def history(pool: AsyncConnectionPool, alert_id: str) -> list[dict[str, Any]]:
    """Every status change asked of an alert, oldest first (``applied`` false: it came too late)."""
    return await fetch_all(
        pool, "SELECT change_id::text AS id, status, previous, applied, comment, by_officer AS by, at"
        " FROM alert_status_log WHERE alert_id = %s::uuid ORDER BY at, change_id", (alert_id,))


async def suppressions(pool: AsyncConnectionPool, viewer: str, now: datetime,
                       employee_id: str | None = None) -> list[dict[str, Any]]:
    """Suppressions in force, each with how many alerts it has silenced so far."""
    clause, params = "", [viewer, now]
    if employee_id is not None:
        clause, params = " AND s.employee_id = %s", [*params, employee_id]
    return await fetch_all(
        pool, "SELECT s.alert_id::text AS alert_id, s.employee_id, s.kind, s.since, s.until,"
        " s.by_officer AS by, s.comment,"
        " (SELECT count(*) FROM alerts a WHERE a.suppressed_by = s.alert_id) AS suppressed_alerts"
        " FROM alert_suppressions s WHERE s.employee_id <> %s AND s.until > %s" + clause +
        " ORDER BY s.until DESC", params)
