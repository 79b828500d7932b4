"""Decisions on possible duplicates: a supervisor's accept (a merge command) or reject.

Both travel on ``identity.commands.v1`` keyed by the first customer of the pair: the
resolver carries out an accepted merge in order with interactions and splits, and the
duplicate finder records both decisions on its proposals.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from events import topics
from events.envelope import encode, register, wrap
from events.ids import uuid5_text
from events.records import Outgoing

_FROZEN = ConfigDict(frozen=True, extra="forbid")
CustomerPair = Annotated[list[str], Field(min_length=2, max_length=2)]


def proposal_id(a: str, b: str) -> str:
    """One id per unordered pair of customers: a pair is proposed (and rejected) once."""
    first, second = sorted((a, b))
    return uuid5_text(f"duplicate:{first}:{second}")


@register("kartoteka.identity.merge_requested.v1")
class MergeRequested(BaseModel):
    """A supervisor accepted a proposal: merge the pair; the proposal is the merge's provenance."""

    model_config = _FROZEN
    command_id: str
    proposal_id: str
    customer_ids: CustomerPair
    requested_by: str
    score: float | None = None
    at: datetime


@register("kartoteka.identity.duplicate_rejected.v1")
class DuplicateRejected(BaseModel):
    """A supervisor said the pair are two people; the pair is never proposed again."""

    model_config = _FROZEN
    command_id: str
    proposal_id: str
    customer_ids: CustomerPair
    requested_by: str
    reason: Annotated[str, Field(min_length=1, max_length=1000)]
    at: datetime


AUTO_MERGE_BY = "kartoteka/auto-merge"


def auto_merge_record(a: str, b: str, score: float, at: datetime) -> Outgoing:
    """The merge a deployment lets the finder request above its auto-merge score (off by default);
    its id is the proposal's, so a re-scored pair requests it once."""
    pid = proposal_id(a, b)
    command = MergeRequested(command_id=pid, proposal_id=pid, customer_ids=sorted((a, b)), requested_by=AUTO_MERGE_BY,
                             score=score, at=at)
    envelope = wrap(command, id=pid, source=AUTO_MERGE_BY, time=at, subject=min(a, b))
    return Outgoing(topics.IDENTITY_COMMANDS, min(a, b).encode(), encode(envelope),
                    (("event-type", envelope.type.encode()),))
