"""Requests (tickets): open one about a customer, move it along its statuses, list them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from events.work import (
    EmployeeId,
    Priority,
    RequestOpened,
    RequestStatus,
    RequestStatusChanged,
    Short,
    Text,
)
from events.work_rules import allowed, due_at
from kartoteka.http import ApiError
from services.api.pagination import MAX_LIMIT, decode_cursor, encode_cursor
from services.api.queries import work as work_queries
from services.api.routes.work import (
    WRITES,
    Agent,
    active_employee,
    customer_root,
    known_interaction,
)
from services.api.tabular import answer
from services.api.work_commands import new_id, publish

router = APIRouter(tags=["requests"])
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


class OpenBody(BaseModel):
    """A new request; ``assignee`` defaults to the caller."""

    model_config = ConfigDict(extra="forbid")
    subject: Short
    priority: Priority = "normal"
    assignee: EmployeeId | None = None
    interaction_id: str | None = Field(None, max_length=64)


class StatusBody(BaseModel):
    """The request's next status, along an allowed transition."""

    model_config = ConfigDict(extra="forbid")
    status: RequestStatus
    comment: Text | None = None


@router.post("/v1/customers/{customer_id}/requests", status_code=202, responses=WRITES)
async def open_request(request: Request, who: Agent, customer_id: str, body: OpenBody) -> JSONResponse:
    """Open a request; its ``due_at`` follows from the SLA hours of its priority."""
    root, members = await customer_root(request, customer_id)
    named = await known_interaction(request, members, body.interaction_id)
    assignee = body.assignee or who.subject
    await active_employee(request, assignee, "assignee")
    now, request_id = datetime.now(UTC), new_id(request, "request", who)
    event = RequestOpened(
        request_id=request_id, customer_id=root, subject=body.subject, priority=body.priority,
        assignee=assignee, interaction_id=work_queries.as_uuid(body.interaction_id or ""),
        thread=(named or {}).get("thread"), opened_at=now,
        due_at=due_at(now, body.priority, request.app.state.sla_hours), by=who.subject,
    )
    await publish(request, who, "request.open", event, event_id=request_id, key=root, at=now,
                  customer_ids=[root])
    return JSONResponse({"id": request_id, "due_at": event.due_at.isoformat()}, 202)


@router.post("/v1/requests/{request_id}/status", status_code=202, responses={**WRITES, 409: {}})
async def change_status(request: Request, who: Agent, request_id: str, body: StatusBody) -> JSONResponse:
    """Move a request to another status; 409 when the transition is not allowed."""
    rid = work_queries.as_uuid(request_id)
    found = await work_queries.request(request.app.state.pool, rid) if rid else None
    if found is None:
        raise ApiError(404, "not_found", "no such request")
    if not allowed(found["status"], body.status):
        raise ApiError(409, "invalid_transition", f"a {found['status']} request cannot become {body.status}")
    now, change_id = datetime.now(UTC), new_id(request, "request-status", who)
    event = RequestStatusChanged(change_id=change_id, request_id=found["id"], customer_id=found["customer_id"],
                                 status=body.status, comment=body.comment, by=who.subject, at=now)
    await publish(request, who, "request.status", event, event_id=change_id, key=found["customer_id"],
                  at=now, customer_ids=[found["customer_id"]])
    return JSONResponse({"id": change_id}, 202)


@router.get("/v1/requests", responses={400: {}, 401: {}, 403: {}, 404: {}, 503: {}})
async def list_requests(
    request: Request, who: Agent,
    customer_id: Annotated[str | None, Query(max_length=64)] = None,
    assignee: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    status: RequestStatus | None = None,
    overdue: bool | None = None,
    before: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = 50,
) -> Response:
    """Requests, newest first, filtered; ``overdue`` means open or pending past its due time."""
    members = (await customer_root(request, customer_id))[1] if customer_id else None
    if assignee == "me":
        assignee = who.subject
    cursor = tuple(decode_cursor(before, (datetime, str))) if before else None
    found = await work_queries.requests(request.app.state.pool, members=members, assignee=assignee,
                                      status=status, overdue=overdue, before=cursor, limit=limit)  # type: ignore[arg-type]
    page = found[:limit]
    await request.app.state.auditor.record(request, who, "request.list", [r["customer_id"] for r in page])
    more = len(found) > limit
    last: dict[str, Any] = page[-1] if page else {}
    return answer(request, page, encode_cursor(last["opened_at"], last["id"]) if more else None)
