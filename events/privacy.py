"""Personal-data commands and their outcome: erasure and legal holds (issue 16).

The commands travel on ``identity.commands.v1`` (keyed by customer id) so the resolver
applies them in order with the interactions; ``CustomerErased`` is published on
``customers.v1`` so every read model drops the customer. None of them carries personal data:
the erasure's reason stays in the erasure table and, sealed, in the access record.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from events.envelope import register

_FROZEN = ConfigDict(frozen=True, extra="forbid")
Reason = Annotated[str, Field(min_length=1, max_length=1000, pattern=r"\S")]


@register("kartoteka.identity.erasure_requested.v1")
class ErasureRequested(BaseModel):
    """An admin (or DPO) asked to erase a customer and every member merged into them."""

    model_config = _FROZEN
    command_id: str
    customer_id: str
    requested_by: str
    reason: Reason
    at: datetime


@register("kartoteka.identity.hold_placed.v1")
class HoldPlaced(BaseModel):
    """A legal hold: neither retention nor erasure touches the customer until ``until``."""

    model_config = _FROZEN
    command_id: str
    customer_id: str
    placed_by: str
    reason: Reason
    until: datetime
    at: datetime


@register("kartoteka.customer.erased.v1")
class CustomerErased(BaseModel):
    """The customer's data keys are destroyed; read models drop every row of ``customer_id``."""

    model_config = _FROZEN
    customer_id: str
    erased_as: str
    command_id: str
    at: datetime
