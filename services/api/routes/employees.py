"""Administration of employees: status, team and role changes, carried on employees.v1."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from kafka.errors import KafkaError
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from events import topics
from events.catalog import EmployeeStatus, EmployeeStatusChanged
from events.envelope import encode, wrap
from events.schedule import parse
from kartoteka.auth import Principal, Role
from kartoteka.http import ApiError, require_roles
from kartoteka.kafka import send_all

router = APIRouter(prefix="/v1/employees", tags=["employees"])
Admin = Annotated[Principal, Depends(require_roles(Role.admin))]
EmployeeId = Annotated[str, Path(min_length=1, max_length=200)]
Hour = Annotated[int, Field(ge=0, le=23)]


class StatusChange(BaseModel):
    """The contract's body: ``schedule`` (e.g. ``"2/2 08:00-20:00 Europe/Moscow"`` or
    ``"Mon-Fri 09:00-18:00 Europe/Moscow"``) is what the off-hours detector holds the employee
    to; ``timezone`` and ``work_hours`` (local start and end hour) are the older, simpler form."""

    model_config = ConfigDict(extra="forbid")
    status: EmployeeStatus
    team: str | None = Field(default=None, min_length=1, max_length=200)
    role: str | None = Field(default=None, min_length=1, max_length=200)
    effective_at: AwareDatetime | None = None
    timezone: str | None = Field(default=None, max_length=64)
    work_hours: tuple[Hour, Hour] | None = None
    schedule: str | None = Field(default=None, max_length=300)

    @field_validator("team", "role")
    @classmethod
    def _no_nul(cls, value: str | None) -> str | None:
        # PostgreSQL text cannot hold U+0000: accepting it would acknowledge a change the
        # employees worker can only dead-letter.
        if value is not None and "\x00" in value:
            raise ValueError("must not contain NUL (U+0000) characters")
        return value

    @field_validator("schedule")
    @classmethod
    def _readable_schedule(cls, value: str | None) -> str | None:
        if value is not None:
            parse(value)  # its ValueError says what could not be read (a 422)
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {value!r}") from exc
        return value


@router.post("/{employee_id}/status", status_code=202, responses={401: {}, 403: {}, 422: {}, 503: {}})
async def change_status(
    request: Request, who: Admin, employee_id: EmployeeId, change: StatusChange
) -> JSONResponse:
    """Record a status change on Kafka; ``left`` is refused on every route at once."""
    now = datetime.now(UTC)
    event = EmployeeStatusChanged(
        employee_id=employee_id, changed_by=who.subject, at=now,
        effective_at=change.effective_at or now,
        **change.model_dump(exclude={"effective_at"}),
    )
    await _produce(request, event)
    # This process refuses at once; the others once the projection has the change.
    request.app.state.employee_statuses.note(employee_id, event.status, event.effective_at, now)
    return JSONResponse(_answer(event), 202)


async def _produce(request: Request, event: EmployeeStatusChanged) -> None:
    state = request.app.state
    envelope = wrap(event, id=str(uuid.uuid4()), source="kartoteka/api", time=event.at,
                    subject=event.employee_id)
    record = (state.settings.topic(topics.EMPLOYEES), event.employee_id.encode(),
              encode(envelope), [("event-type", envelope.type.encode())])
    try:
        await send_all(state.producer, [record], timeout_s=10)
    except (KafkaError, TimeoutError) as exc:
        raise ApiError(503, "broker_unavailable", f"Kafka did not acknowledge: {exc}",
                       {"Retry-After": "1"}) from exc


def _answer(event: EmployeeStatusChanged) -> dict[str, Any]:
    return {**event.model_dump(mode="json", exclude={"changed_by", "at"}),
            "changed_by": event.changed_by, "changed_at": event.at.isoformat()}
