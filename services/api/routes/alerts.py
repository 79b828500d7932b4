"""Alerts and their workflow for security officers: list, one alert with its history, status
changes and the suppressions false positives set. Every call is an access record of the officer,
and an officer never sees (nor works) an alert about themself: that is another officer's job."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from events import topics
from events.alert_workflow import (
    AlertStatus,
    AlertStatusChanged,
    Comment,
    NewStatus,
    allowed,
    suppression_end,
)
from events.catalog import AlertKind, AlertSeverity
from kartoteka.auth import Principal, Role
from kartoteka.http import ApiError, require_roles
from services.api.pagination import MAX_LIMIT, decode_cursor, encode_cursor
from services.api.queries import alerts as alert_views
from services.api.queries.alerts import AlertFilter
from services.api.work_commands import new_id, publish

router = APIRouter(prefix="/v1/audit", tags=["alerts"])
Officer = Annotated[Principal, Depends(require_roles(Role.security_officer))]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
ShortQuery = Annotated[str | None, Query(max_length=200)]
MISSING: dict[int | str, dict[str, Any]] = {400: {}, 401: {}, 403: {}, 404: {}, 503: {}}


class StatusBody(BaseModel):
    """The alert's next status; a false positive silences the same pattern for a while."""

    model_config = ConfigDict(extra="forbid")
    status: NewStatus
    comment: Comment | None = None


def alert_item(row: dict[str, Any]) -> dict[str, Any]:
    """An alert as the API shows it: the contract's fields, its status, and what it suppresses
    (a false positive) or what suppressed it."""
    item = {k: v for k, v in row.items() if k != "suppresses_until"}
    item["id"] = str(row["id"])
    item["suppressed_by"] = str(row["suppressed_by"]) if row["suppressed_by"] else None
    until = row["suppresses_until"]
    item["suppression"] = {"kind": row["kind"], "until": until} if until else None
    return item


async def _record(request: Request, who: Principal, action: Any, query: str | None) -> None:
    await request.app.state.auditor.record(request, who, action, [], query)


@router.get("/alerts", responses=MISSING)
async def alerts(
    request: Request,
    who: Officer,
    employee_id: ShortQuery = None,
    status: AlertStatus | None = None,
    kind: AlertKind | None = None,
    severity: AlertSeverity | None = None,
    before: ShortQuery = None,
    limit: Limit = 50,
) -> dict[str, Any]:
    """Alerts with their evidence and status, newest first (never the caller's own)."""
    decoded = decode_cursor(before, (datetime, uuid.UUID)) if before else None
    cursor = (decoded[0], str(decoded[1])) if decoded else None
    where = AlertFilter(who.subject, employee_id, kind, severity, status)
    rows = await alert_views.alerts_page(request.app.state.pool, where, cursor, limit)
    await _record(request, who, "audit.alerts",
                  f"employee_id={employee_id} status={status} kind={kind} severity={severity}")
    page = rows[:limit]
    more = len(rows) > limit
    return {"items": [alert_item(r) for r in page],
            "next": encode_cursor(page[-1]["raised_at"], str(page[-1]["id"])) if more else None}


async def _visible(request: Request, who: Principal, alert_id: str) -> dict[str, Any]:
    try:
        found = await alert_views.alert(request.app.state.pool, str(uuid.UUID(alert_id)), who.subject)
    except ValueError:
        found = None
    if found is None:  # an officer's own alert is as unknown to them as a missing one
        # The probe is an access of the audit data too, answered or not.
        await _record(request, who, "audit.alert", f"alert_id={alert_id} found=false")
        raise ApiError(404, "not_found", "no such alert")
    return found


@router.get("/alerts/{alert_id}", responses=MISSING)
async def one_alert(request: Request, who: Officer, alert_id: str) -> dict[str, Any]:
    """One alert with every status change asked of it."""
    found = await _visible(request, who, alert_id)
    changes = await alert_views.history(request.app.state.pool, alert_id)
    await _record(request, who, "audit.alert", f"alert_id={alert_id}")
    return {**alert_item(found), "history": changes}


@router.post("/alerts/{alert_id}/status", status_code=202, responses={**MISSING, 409: {}, 422: {}})
async def change_status(request: Request, who: Officer, alert_id: str, body: StatusBody) -> JSONResponse:
    """Acknowledge, resolve or dismiss an alert as a false positive: an event on alerts.v1 (for
    the alerts read model and SIEM consumers) and an access record; 409 when already final."""
    found = await _visible(request, who, alert_id)
    if not allowed(found["status"], body.status):
        raise ApiError(409, "invalid_transition",
                       f"a {found['status']} alert cannot become {body.status}")
    now, change_id = datetime.now(UTC), new_id(request, "alert-status", who)
    days = request.app.state.settings.alert_suppression_days
    event = AlertStatusChanged(
        change_id=change_id, alert_id=str(found["id"]), employee_id=found["employee_id"],
        kind=found["kind"], severity=found["severity"], status=body.status, comment=body.comment,
        by=who.subject, at=now, suppress_until=suppression_end(body.status, now, days),
    )
    await publish(request, who, "audit.alert_status", event, event_id=change_id,
                  key=found["employee_id"], at=now, customer_ids=[], topic=topics.ALERTS,
                  query=f"alert_id={alert_id} status={body.status}")
    answer = {"id": change_id, "alert_id": event.alert_id, "status": body.status,
              "suppress_until": event.suppress_until.isoformat() if event.suppress_until else None}
    return JSONResponse(answer, 202)


@router.get("/suppressions", responses=MISSING)
async def suppressions(request: Request, who: Officer, employee_id: ShortQuery = None) -> dict[str, Any]:
    """False positives in force: which pattern each silences, until when, and how many alerts
    it has silenced so far (those stay listed as ``status=suppressed``)."""
    rows = await alert_views.suppressions(request.app.state.pool, who.subject, datetime.now(UTC),
                                          employee_id)
    await _record(request, who, "audit.suppressions", f"employee_id={employee_id}")
    return {"items": rows}
