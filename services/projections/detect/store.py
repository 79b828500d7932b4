"""SQL of the detectors: the access stream they keep, the employee context, peers, raised alerts.

``History`` reads either the worker's own recent stream (``detect_accesses``) or, for a
replay, the whole trail (``access_log``); both have the columns the detectors need.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any, Literal

from psycopg import Cursor
from psycopg.rows import tuple_row

from events.ids import KARTOTEKA_NS
from services.projections.detect.context import employee_context
from services.projections.detect.detectors import (
    DEFAULT_CONFIG,
    Access,
    Alert,
    DetectorConfig,
    EmployeeContext,
    PeerCounts,
)
from services.projections.detect.evaluate import SEVERITY_RANK

log = logging.getLogger(__name__)
Source = Literal["detect_accesses", "access_log"]

INSERT_ACCESS = (
    "INSERT INTO detect_accesses (id, employee_id, action, customer_ids, at, query, kafka_offset)"
    " VALUES {rows} ON CONFLICT (id) DO NOTHING"
)
INSERT_CHUNK = 5000  # rows per statement: 7 parameters each, under PostgreSQL's 65535
RAISED = "SELECT alert_id::text AS id, severity_rank FROM detect_raised WHERE alert_id = ANY(%s::uuid[])"
MARK_RAISED = (
    "INSERT INTO detect_raised (alert_id, severity_rank) VALUES (%s, %s)"
    " ON CONFLICT (alert_id) DO UPDATE SET severity_rank = excluded.severity_rank, raised_at = now()"
)
PRUNE = "DELETE FROM detect_accesses WHERE at < %s"
# An employee whose accesses are stored but not evaluated yet (the worker paces each
# employee's evaluations, see pacing.py) is marked in detect_raised, under an id no alert can have,
# with the earliest such access as its time: a restart evaluates them first.
PENDING_RANK = -1
MARK_PENDING = (
    "INSERT INTO detect_raised (alert_id, severity_rank, raised_at)"
    " SELECT id, -1, at FROM unnest(%s::uuid[], %s::timestamptz[]) AS m(id, at)"
    " ON CONFLICT (alert_id) DO UPDATE SET raised_at = least(detect_raised.raised_at, excluded.raised_at)"
)
CLEAR_PENDING = "DELETE FROM detect_raised WHERE alert_id = ANY(%s::uuid[]) AND severity_rank = -1"
CLEAR_ALL_PENDING = "DELETE FROM detect_raised WHERE severity_rank = -1"
PENDING = "SELECT alert_id::text AS id, raised_at AS since FROM detect_raised WHERE severity_rank = -1"
EMPLOYEES_SINCE = "SELECT DISTINCT employee_id FROM detect_accesses WHERE at >= %s"


def insert_accesses(curs: Cursor[Any], rows: Sequence[tuple[str, Access]]) -> None:
    """Keep the new accesses (by event id, so a redelivery is stored once), in one statement:
    a pipeline of one insert per row costs more than the rows for the small batches of a
    steady stream."""
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = rows[start:start + INSERT_CHUNK]
        query = INSERT_ACCESS.format(rows=", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(chunk)))
        params = [v for i, a in chunk
                  for v in (i, a.employee_id, a.action, list(a.customer_ids), a.at, a.query, a.offset)]
        curs.execute(query, params)  # type: ignore[arg-type]


class History:
    """Reads an employee's accesses, context and peers from one source table."""

    def __init__(self, source: Source = "detect_accesses", default_zone: str = "Europe/Moscow"):
        self.source = source
        self.default_zone = default_zone

    def accesses(
        self, curs: Cursor[Any], employee_id: str, since: datetime, until: datetime
    ) -> list[Access]:
        # Tuples in binary (no text to parse), and Access objects without re-checking what
        # the table guarantees (aware times): an evaluation reads thousands of rows.
        rows = curs.connection.cursor(row_factory=tuple_row, binary=True).execute(
            f"SELECT employee_id, action, customer_ids, at, query, kafka_offset"  # noqa: S608
            f" FROM {self.source} WHERE employee_id = %s AND at >= %s AND at < %s ORDER BY at",
            (employee_id, since, until),
        ).fetchall()
        return [_stored_access(*r) for r in rows]

    def context(
        self, curs: Cursor[Any], employee_id: str, since: datetime, until: datetime
    ) -> EmployeeContext:
        """Status, team, working time and the customers the employee has a business reason
        to read (see ``employee_context``)."""
        return employee_context(curs, self.source, employee_id, since, until, self.default_zone)

    def peers(
        self,
        curs: Cursor[Any],
        ctx: EmployeeContext,
        since: datetime,
        until: datetime,
        cfg: DetectorConfig = DEFAULT_CONFIG,
    ) -> PeerCounts:
        """Distinct customers viewed per working day (the evaluated employee's days) by every
        other member of the team."""
        if not ctx.team:
            return {}
        rows = curs.execute(
            f"SELECT d.employee_id, ((d.at AT TIME ZONE %s) - make_interval(hours => %s))::date AS day,"  # noqa: S608
            f" count(DISTINCT c) AS n FROM {self.source} d"
            " JOIN employees e ON e.employee_id = d.employee_id"
            " CROSS JOIN LATERAL unnest(d.customer_ids) AS c"
            " WHERE e.team = %s AND d.employee_id <> %s AND d.action = ANY(%s)"
            " AND d.at >= %s AND d.at < %s GROUP BY 1, 2",
            (ctx.timezone, ctx.day_start, ctx.team, ctx.employee_id, sorted(cfg.view_actions), since,
             until),
        ).fetchall()
        counts: dict[str, dict[date, int]] = defaultdict(dict)
        for r in rows:
            counts[r["employee_id"]][r["day"]] = r["n"]
        return counts

    def employees(self, curs: Cursor[Any], only: Collection[str] | None = None) -> list[str]:
        """Employees with any access in the source (for a replay), optionally some only."""
        rows = curs.execute(
            f"SELECT DISTINCT employee_id FROM {self.source} ORDER BY employee_id"  # noqa: S608
        ).fetchall()
        return [r["employee_id"] for r in rows if only is None or r["employee_id"] in only]

    def bounds(self, curs: Cursor[Any], employee_id: str) -> tuple[datetime, datetime] | None:
        row = curs.execute(
            f"SELECT min(at) AS first, max(at) AS last FROM {self.source}"  # noqa: S608
            " WHERE employee_id = %s",
            (employee_id,),
        ).fetchone()
        return (row["first"], row["last"]) if row and row["first"] else None


def _stored_access(
    employee_id: str, action: Any, customer_ids: list[str], at: datetime, query: str | None,
    offset: int | None,
) -> Access:
    access = object.__new__(Access)
    # Filling the instance dict at once; frozen only guards attribute assignment.
    access.__dict__.update(employee_id=employee_id, action=action,
                           customer_ids=tuple(customer_ids), at=at, query=query, offset=offset)
    return access


def raised_ranks(curs: Cursor[Any], alerts: Sequence[Alert]) -> dict[str, int]:
    if not alerts:
        return {}
    rows = curs.execute(RAISED, ([a.id for a in alerts],)).fetchall()
    return {r["id"]: r["severity_rank"] for r in rows}


def mark_raised(curs: Cursor[Any], alerts: Sequence[Alert]) -> None:
    if alerts:
        curs.executemany(MARK_RAISED, [(a.id, SEVERITY_RANK[a.severity]) for a in alerts])


def pending_marker(employee_id: str) -> str:
    return str(uuid.uuid5(KARTOTEKA_NS, f"detect-pending:{employee_id}"))


def mark_pending(curs: Cursor[Any], since: dict[str, datetime]) -> None:
    """Remember employees with accesses not evaluated yet, each with the earliest of them."""
    if since:
        marks = sorted(since.items())
        curs.execute(MARK_PENDING, ([pending_marker(e) for e, _ in marks], [at for _, at in marks]))


def clear_pending(curs: Cursor[Any], employees: Collection[str]) -> None:
    if employees:
        curs.execute(CLEAR_PENDING, ([pending_marker(e) for e in employees],))


def clear_all_pending(curs: Cursor[Any]) -> None:
    curs.execute(CLEAR_ALL_PENDING)


def pending(curs: Cursor[Any]) -> dict[str, datetime]:
    """Employees left marked pending (by a crash or a stop), with their earliest access time."""
    marks = {r["id"]: r["since"] for r in curs.execute(PENDING).fetchall()}
    if not marks:
        return {}
    found: dict[str, datetime] = {}
    for row in curs.execute(EMPLOYEES_SINCE, (min(marks.values()),)).fetchall():
        since = marks.get(pending_marker(row["employee_id"]))
        if since is not None:
            found[row["employee_id"]] = since
    return found


def prune(curs: Cursor[Any], before: datetime) -> None:
    curs.execute(PRUNE, (before,))
