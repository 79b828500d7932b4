"""Every event the workers exchange, with its versioned type name."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

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
