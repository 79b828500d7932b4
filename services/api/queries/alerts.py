"""The alerts read model: officers' pages of alerts, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg_pool import AsyncConnectionPool

from services.api.queries import fetch_all

ALERT_COLUMNS = "id, employee_id, kind, severity, score, evidence, raised_at, window_start, window_end"


async def alerts_page(
    pool: AsyncConnectionPool,
    employee_id: str | None,
    kind: str | None,
    severity: str | None,
    before: tuple[datetime, str] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Alerts newest first, filtered; ``limit + 1`` rows."""
    clauses: list[str] = ["TRUE"]
    params: list[Any] = []
    for clause, value in (
        ("employee_id = %s", employee_id),
        ("kind = %s", kind),
        ("severity = %s", severity),
    ):
        if value is not None:
            clauses.append(clause)
            params.append(value)
    if before is not None:
        clauses.append("(raised_at, id) < (%s, %s::uuid)")
        params.extend(before)
    query = (
        f"SELECT {ALERT_COLUMNS} FROM alerts WHERE {' AND '.join(clauses)}"
        " ORDER BY raised_at DESC, id DESC LIMIT %s"
    )
    return await fetch_all(pool, query, (*params, limit + 1))
