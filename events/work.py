"""The agent's work, as events on ``work.commands.v1``: notes, profile, requests, tasks, handover.

Each is keyed by the customer it changes (a handover by the departing employee) and carries
the id of what it creates or changes, so a redelivered record is recognised by that id.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from events.envelope import register

_FROZEN = ConfigDict(frozen=True, extra="forbid")


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold U+0000: refuse it at the contract rather than dead-letter later.
    if "\x00" in value:
        raise ValueError("must not contain NUL (U+0000) characters")
    return value


Text = Annotated[str, Field(min_length=1, max_length=10_000), AfterValidator(_no_nul)]
Short = Annotated[str, Field(min_length=1, max_length=300), AfterValidator(_no_nul)]
EmployeeId = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_no_nul)]
Tag = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_no_nul)]
Priority = Literal["low", "normal", "high", "urgent"]
RequestStatus = Literal["open", "pending", "resolved", "closed"]
ProfileField = Literal["name", "birth_date", "company", "tags", "owner"]


@register("kartoteka.work.note_added.v1")
class NoteAdded(BaseModel):
    """An agent wrote down what a contact was about; ``outcome`` is one of the configured list."""

    model_config = _FROZEN
    note_id: str
    customer_id: str
    text: Text
    interaction_id: str | None = None
    outcome: Short | None = None
    by: EmployeeId
    at: datetime


@register("kartoteka.work.profile_changed.v1")
class ProfileChanged(BaseModel):
    """Profile fields set by an employee; ``fields`` names those given (a given None clears)."""

    model_config = _FROZEN
    change_id: str
    customer_id: str
    fields: Annotated[list[ProfileField], Field(min_length=1)]
    name: Short | None = None
    birth_date: date | None = None
    company: Short | None = None
    tags: Annotated[list[Tag], Field(max_length=50)] | None = None
    owner: EmployeeId | None = None
    by: EmployeeId
    at: datetime


@register("kartoteka.work.request_opened.v1")
class RequestOpened(BaseModel):
    """A request (ticket) was opened; ``due_at`` was fixed from the SLA of its priority then."""

    model_config = _FROZEN
    request_id: str
    customer_id: str
    subject: Short
    priority: Priority
    assignee: EmployeeId
    interaction_id: str | None = None
    thread: str | None = None
    opened_at: datetime
    due_at: datetime
    by: EmployeeId


@register("kartoteka.work.request_status_changed.v1")
class RequestStatusChanged(BaseModel):
    """A request moved from one status to another (only along allowed transitions)."""

    model_config = _FROZEN
    change_id: str
    request_id: str
    customer_id: str
    status: RequestStatus
    comment: Text | None = None
    by: EmployeeId
    at: datetime


@register("kartoteka.work.task_created.v1")
class TaskCreated(BaseModel):
    """A follow-up task or reminder about a customer."""

    model_config = _FROZEN
    task_id: str
    customer_id: str
    title: Short
    due_at: datetime
    assignee: EmployeeId
    by: EmployeeId
    at: datetime


@register("kartoteka.work.task_done.v1")
class TaskDone(BaseModel):
    """A task was done."""

    model_config = _FROZEN
    task_id: str
    customer_id: str
    by: EmployeeId
    at: datetime


@register("kartoteka.work.employee_handed_over.v1")
class EmployeeHandedOver(BaseModel):
    """Every customer, open request and open task of ``from_employee`` goes to ``to_employee``."""

    model_config = _FROZEN
    handover_id: str
    from_employee: EmployeeId
    to_employee: EmployeeId
    by: EmployeeId
    at: datetime


WorkEvent = (NoteAdded | ProfileChanged | RequestOpened | RequestStatusChanged | TaskCreated | TaskDone
             | EmployeeHandedOver)
