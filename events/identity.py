"""Identity graph events beyond registration and linking: merges, splits, suspicious links.

Published on ``customers.v1`` (keyed by the customer they change) and, for split
commands, on ``identity.commands.v1``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from events.envelope import register

_FROZEN = ConfigDict(frozen=True, extra="forbid")
IdentifierKey = Annotated[str, Field(min_length=3, max_length=400, pattern=r"^(phone|email|handle):.+")]


@register("kartoteka.customer.merged.v1")
class CustomerMerged(BaseModel):
    """``merged_id`` now answers with ``survivor_id``'s card; the evidence says why."""

    model_config = _FROZEN
    survivor_id: str
    merged_id: str
    interaction_id: str
    keys: list[str]
    at: datetime


@register("kartoteka.customer.identifier_unlinked.v1")
class IdentifierUnlinked(BaseModel):
    """An identifier no longer belongs to a customer (moved away by a split)."""

    model_config = _FROZEN
    customer_id: str
    key: str
    command_id: str
    at: datetime


@register("kartoteka.customer.split.v1")
class CustomerSplit(BaseModel):
    """Identifiers (and the interactions that came only through them) moved to another customer."""

    model_config = _FROZEN
    source_id: str
    target_id: str
    keys: list[str]
    interaction_ids: list[str]
    command_id: str
    requested_by: str
    reason: str | None = None
    at: datetime


@register("kartoteka.customer.interaction_reattributed.v1")
class InteractionReattributed(BaseModel):
    """An interaction now belongs to another customer (after a split)."""

    model_config = _FROZEN
    interaction_id: str
    from_customer_id: str
    customer_id: str
    command_id: str
    original_customer_id: str


@register("kartoteka.customer.suspicious_link.v1")
class SuspiciousLinkRecorded(BaseModel):
    """An interaction would have merged customers, but a guard held it back; shown on the card."""

    model_config = _FROZEN
    customer_id: str
    other_customer_ids: list[str]
    key: str
    interaction_id: str
    reason: str
    at: datetime


@register("kartoteka.identity.split_requested.v1")
class SplitRequested(BaseModel):
    """A supervisor or admin asked to move identifiers off a customer (the undo of a merge)."""

    model_config = _FROZEN
    command_id: str
    customer_id: str
    keys: Annotated[list[IdentifierKey], Field(min_length=1, max_length=50)]
    target_customer_id: str | None = None
    requested_by: str
    reason: Annotated[str, Field(max_length=1000)] | None = None
    at: datetime
