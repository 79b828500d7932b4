"""Every event the workers exchange, with its versioned type name."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from events.envelope import register
from events.interaction import Interaction

_FROZEN = ConfigDict(frozen=True, extra="forbid")

INTERACTION_RECEIVED = "kartoteka.interaction.received.v1"
register(INTERACTION_RECEIVED)(Interaction)


@register("kartoteka.customer.registered.v1")
class CustomerRegistered(BaseModel):
    """A new customer became known through an interaction."""

    model_config = _FROZEN
    customer_id: str
    first_interaction_id: str
    at: datetime


@register("kartoteka.customer.identifier_linked.v1")
class IdentifierLinked(BaseModel):
    """An interaction proved that an identifier belongs to a customer."""

    model_config = _FROZEN
    customer_id: str
    kind: Literal["phone", "email", "handle"]
    value: str
    valid: bool = True
    interaction_id: str
    channel: str
    at: datetime


@register("kartoteka.customer.interaction_attributed.v1")
class InteractionAttributed(BaseModel):
    """An interaction was attributed to a customer; carries the whole interaction."""

    model_config = _FROZEN
    customer_id: str
    interaction_id: str
    interaction: Interaction


AccessAction = Literal[
    "customer.search",
    "customer.card",
    "customer.timeline",
    "customer.export",
    "audit.access",
    "audit.alerts",
    "audit.verify",
    # The alert workflow and the suppressions it sets (events/alert_workflow.py).
    "audit.alert",
    "audit.alert_status",
    "audit.suppressions",
    "audit.export",  # a CSV download of access records: the officer's own bulk read
    # The agent's work (events/work.py): writes, their lists and the supervisors' reports.
    "customer.note",
    "customer.profile",
    "request.open",
    "request.status",
    "request.list",
    "task.create",
    "task.done",
    "task.list",
    "employee.handover",
    "report.dormant",
    "report.birthdays",
    "report.activity",
    "customer.segment",
    # Personal data (events/privacy.py): the reason travels sealed in ``query``.
    "customer.erase",
    "customer.hold",
    # Possible duplicates (events/duplicates.py): the review queue and its decisions.
    "duplicate.list",
    "duplicate.read",
    "duplicate.accept",
    "duplicate.reject",
]


@register("kartoteka.access.recorded.v1")
class AccessRecorded(BaseModel):
    """An employee read customer (or audit) data; the audit trail is built from these."""

    model_config = _FROZEN
    employee_id: str
    role: str
    action: AccessAction
    customer_ids: Annotated[list[str], Field(max_length=500)] = Field(default_factory=list)
    at: datetime
    request_id: str
    client: str | None = None
    route: str
    query: str | None = None


EmployeeStatus = Literal["active", "notice_given", "left"]


@register("kartoteka.employee.status_changed.v1")
class EmployeeStatusChanged(BaseModel):
    """An administrator changed an employee's status, team or role (keyed by employee id).

    ``team``, ``role``, ``timezone`` and ``work_hours`` are None when unchanged; ``effective_at``
    is when the change takes effect, ``at`` when it was recorded.
    """

    model_config = _FROZEN
    employee_id: str = Field(min_length=1, max_length=200)
    status: EmployeeStatus
    team: str | None = Field(default=None, max_length=200)
    role: str | None = Field(default=None, max_length=200)
    timezone: str | None = Field(default=None, max_length=64)
    work_hours: tuple[int, int] | None = None
    # A rota or weekly hours with its time zone (events.schedule), from ``effective_at`` on.
    schedule: str | None = Field(default=None, max_length=300)
    effective_at: datetime
    changed_by: str
    at: datetime


# What the detectors raise; the audit chain's own check raises the one kind more.
DetectorKind = Literal[
    "volume_spike",
    "breadth",
    "no_business_reason",
    "off_hours",
    "enumeration",
    "bulk_export",
    "notice_activity",
    "low_and_slow",
]
AlertKind = Literal[DetectorKind, "chain_integrity"]
AlertSeverity = Literal["low", "medium", "high", "critical"]


@register("kartoteka.alert.raised.v1")
class AlertRaised(BaseModel):
    """A suspicion about an employee (or the audit trail itself) with its evidence.

    ``id`` is deterministic per employee, kind and window, so a re-run of a detector raises
    the same alert again rather than a new one; a later event with the same id and a higher
    severity supersedes the earlier one.
    """

    model_config = _FROZEN
    id: str
    employee_id: str
    kind: AlertKind
    severity: AlertSeverity
    score: float = Field(ge=0, le=1)
    window_start: datetime
    window_end: datetime
    evidence: dict[str, Any] = Field(default_factory=dict)
    raised_at: datetime
    detector: str = "detect"


@register("kartoteka.audit.checkpoint_signed.v1")
class AuditCheckpointSigned(BaseModel):
    """The access chain had ``hash`` at ``seq``, signed: kept outside the database, it lets a
    verifier tell a rewritten chain from the one that was written."""

    model_config = _FROZEN
    chain: str
    seq: int = Field(ge=1)
    hash: str
    signature: str
    signed_at: datetime
