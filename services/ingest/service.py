"""Accept a list of raw items: validate, drop duplicates, produce, and report per item."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from services.ingest.accept import Accepted, Rejected, accept

log = logging.getLogger(__name__)
Status = Literal["accepted", "duplicate", "rejected"]


@dataclass(slots=True)  # one per item: a frozen __init__ is twice as slow
class ItemResult:
    """One item's outcome, in the contract's shape."""

    id: str | None
    status: Status
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "error": self.error}


class Publisher(Protocol):
    id_secret: bytes  # keys the deterministic ids of what it publishes

    async def publish(self, items: list[Accepted], received_at: datetime) -> set[str]:
        """Produce the items received for the first time; the ids of the others (duplicates)."""
        ...


class ReceiptBook(Protocol):
    def recent(self, ids: list[str]) -> set[str]: ...

    def remember(self, ids: list[str]) -> None: ...


async def ingest(
    raw_items: list[Any], publisher: Publisher, receipts: ReceiptBook
) -> list[ItemResult]:
    """Results in input order; returns only after Kafka acknowledged every accepted item."""
    return await settle([accept(raw, publisher.id_secret) for raw in raw_items], publisher, receipts)


async def settle(
    outcomes: list[Accepted | Rejected], publisher: Publisher, receipts: ReceiptBook
) -> list[ItemResult]:
    """Drop duplicates, produce the rest, and report every outcome in input order."""
    candidate_ids = [o.id for o in outcomes if isinstance(o, Accepted)]
    already = receipts.recent(candidate_ids) if candidate_ids else set()
    to_send: dict[str, Accepted] = {}
    for outcome in outcomes:
        if isinstance(outcome, Accepted) and outcome.id not in already:
            to_send.setdefault(outcome.id, outcome)
    if to_send:
        recorded = await publisher.publish(list(to_send.values()), datetime.now(UTC))
        already |= recorded
        receipts.remember([id_ for id_ in to_send if id_ not in recorded])
    results: list[ItemResult] = []
    for outcome in outcomes:
        if isinstance(outcome, Rejected):
            results.append(ItemResult(outcome.id, "rejected", outcome.reason))
        elif outcome.id in already or to_send.get(outcome.id) is not outcome:
            results.append(ItemResult(outcome.id, "duplicate"))
        else:
            results.append(ItemResult(outcome.id, "accepted"))
    return results
