"""The agent's writes about a customer: notes with call outcomes, the profile, and handover.

Each answers 202 with the id of what it created once Kafka acknowledged the event; the work
projection applies it shortly after. Each is an access record whose action names it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from events.work import EmployeeHandedOver, EmployeeId, NoteAdded, ProfileChanged, Short, Tag, Text
from kartoteka.auth import Principal, Role
from kartoteka.http import ApiError, require_roles
from services.api.erased import missing
from services.api.queries import customers as customer_queries
from services.api.queries import work as work_queries
from services.api.routes.customers import customer_id_or_404
from services.api.work_commands import new_id, publish

router = APIRouter(tags=["work"])
Agent = Annotated[Principal, Depends(require_roles(Role.agent, Role.supervisor))]
Lead = Annotated[Principal, Depends(require_roles(Role.supervisor, Role.admin))]
EmployeePath = Annotated[str, Path(min_length=1, max_length=200)]
WRITES: dict[int | str, dict[str, Any]] = {401: {}, 403: {}, 404: {}, 422: {}, 503: {}}


class NoteBody(BaseModel):
    """What the contact was about; ``outcome`` from the configured list."""

    model_config = ConfigDict(extra="forbid")
    text: Text
    interaction_id: str | None = Field(None, max_length=64)
    outcome: str | None = Field(None, max_length=100)


class ProfileBody(BaseModel):
    """Any of the profile fields; a field given as null clears it."""

    model_config = ConfigDict(extra="forbid")
    name: Short | None = None
    birth_date: date | None = None
    company: Short | None = None
    tags: Annotated[list[Tag], Field(max_length=50)] | None = None
    owner: EmployeeId | None = None

    @field_validator("birth_date")
    @classmethod
    def _in_the_past(cls, value: date | None) -> date | None:
        if value is not None and not date(1900, 1, 1) <= value <= datetime.now(UTC).date():
            raise ValueError("birth_date must be a past date after 1900-01-01")
        return value


class HandoverBody(BaseModel):
    """Who takes over the departing employee's customers, open requests and open tasks."""

    model_config = ConfigDict(extra="forbid")
    to: EmployeeId


async def customer_root(request: Request, customer_id: str) -> tuple[str, list[str]]:
    """The card a customer id answers with, and its members; 404 for an unknown id, 410 for an erased one."""
    cid = customer_id_or_404(customer_id)
    found = await customer_queries.members(request.app.state.pool, cid)
    if found is None:
        raise await missing(request.app.state.pool, cid)
    return found


async def known_interaction(request: Request, members: list[str], interaction_id: str | None
                            ) -> dict[str, str | None] | None:
    """The named interaction of this customer (404 when it is not theirs), or None."""
    if interaction_id is None:
        return None
    found = work_queries.as_uuid(interaction_id)
    row = await work_queries.interaction(request.app.state.pool, members, found) if found else None
    if row is None:
        raise ApiError(404, "not_found", "no such interaction of this customer")
    return row


async def active_employee(request: Request, employee_id: str, field: str) -> None:
    """422 when ``employee_id`` has left: work must not go to someone who is gone."""
    found = await work_queries.employee(request.app.state.pool, employee_id)
    if found is not None and found["status"] == "left":
        raise ApiError(422, "employee_left", f"{field} {employee_id} has left")


@router.post("/v1/customers/{customer_id}/notes", status_code=202, responses=WRITES)
async def add_note(request: Request, who: Agent, customer_id: str, body: NoteBody) -> JSONResponse:
    """Write down what a contact was about; shows in the timeline as ``"channel": "note"``."""
    root, members = await customer_root(request, customer_id)
    outcomes = request.app.state.work_outcomes
    if body.outcome is not None and body.outcome not in outcomes:
        raise ApiError(422, "invalid_outcome", f"outcome must be one of: {', '.join(outcomes)}")
    await known_interaction(request, members, body.interaction_id)
    now, note_id = datetime.now(UTC), new_id(request, "note", who)
    event = NoteAdded(note_id=note_id, customer_id=root, text=body.text, outcome=body.outcome,
                      interaction_id=work_queries.as_uuid(body.interaction_id or ""), by=who.subject, at=now)
    await publish(request, who, "customer.note", event, event_id=note_id, key=root, at=now,
                  customer_ids=[root])
    return JSONResponse({"id": note_id}, 202)


@router.patch("/v1/customers/{customer_id}", status_code=202, responses=WRITES)
async def change_profile(request: Request, who: Agent, customer_id: str, body: ProfileBody) -> JSONResponse:
    """Set name, birth date, company, tags or owner; the card shows them as top-level fields."""
    given = sorted(body.model_fields_set)
    if not given:
        raise ApiError(422, "empty_change", "give at least one of name, birth_date, company, tags, owner")
    if "owner" in given and body.owner is not None:
        if who.role is Role.agent and body.owner != who.subject:
            raise ApiError(403, "forbidden", "an agent may only make themself the owner")
        await active_employee(request, body.owner, "owner")
    root, _ = await customer_root(request, customer_id)
    now, change_id = datetime.now(UTC), new_id(request, "profile", who)
    event = ProfileChanged(change_id=change_id, customer_id=root, fields=given, by=who.subject, at=now,
                           **body.model_dump(include=set(given)))
    await publish(request, who, "customer.profile", event, event_id=change_id, key=root, at=now,
                  customer_ids=[root])
    return JSONResponse({"id": change_id}, 202)


@router.post("/v1/employees/{employee_id}/handover", status_code=202, responses=WRITES)
async def handover(request: Request, who: Lead, employee_id: EmployeePath, body: HandoverBody) -> JSONResponse:
    """Move every customer, open request and open task of one employee to another, in one step."""
    if body.to == employee_id:
        raise ApiError(422, "same_employee", "cannot hand over to the same employee")
    await active_employee(request, body.to, "to")
    now, handover_id = datetime.now(UTC), new_id(request, "handover", who)
    event = EmployeeHandedOver(handover_id=handover_id, from_employee=employee_id, to_employee=body.to,
                               by=who.subject, at=now)
    owned = await work_queries.owned_by(request.app.state.pool, employee_id)
    await publish(request, who, "employee.handover", event, event_id=handover_id, key=employee_id,
                  at=now, customer_ids=owned)
    return JSONResponse({"id": handover_id}, 202)
