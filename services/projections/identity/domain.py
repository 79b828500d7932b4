"""The identity graph as eventsourcing aggregates.

A customer aggregate holds identity decisions only; each attribution is its own
aggregate whose id is the interaction id, so the aggregate never grows with the
number of interactions and a second attribution of the same interaction is a
version-1 conflict, i.e. a duplicate.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from events.ids import customer_id_for, split_target_id


class Customer(Aggregate):
    """One real person, known by the identifiers interactions proved to be theirs."""

    @staticmethod
    def create_id(first_interaction_id: str, at: datetime, split_from: str | None = None) -> UUID:  # type: ignore[override]
        if split_from is not None:
            return UUID(split_target_id(first_interaction_id))
        return UUID(customer_id_for(first_interaction_id))

    @event("Registered")
    def __init__(self, first_interaction_id: str, at: datetime, split_from: str | None = None) -> None:
        self.first_interaction_id = first_interaction_id
        self.registered_at = at
        self.split_from = split_from
        self.identifiers: dict[str, str] = {}
        self.merged_into: str | None = None

    @event("IdentifierLinked")
    def link_identifier(
        self, kind: str, value: str, valid: bool, interaction_id: str, channel: str, at: datetime
    ) -> None:
        self.identifiers[f"{kind}:{value}"] = interaction_id

    @event("IdentifierUnlinked")
    def unlink_identifier(self, key: str, command_id: str, at: datetime) -> None:
        self.identifiers.pop(key, None)

    @event("Absorbed")
    def absorb(self, merged_id: str, interaction_id: str, keys: list[str], at: datetime) -> None:
        """The survivor's side of a merge (the published event comes from this one)."""

    @event("MergedInto")
    def merge_into(self, survivor_id: str, interaction_id: str, keys: list[str], at: datetime) -> None:
        self.merged_into = survivor_id

    @event("SplitOff")
    def split_off(self, target_id: str, keys: list[str], interaction_ids: list[str], command_id: str,
                  requested_by: str, reason: str | None, at: datetime) -> None:
        for key in keys:
            self.identifiers.pop(key, None)

    @event("Erased")
    def erase(self, erased_as: str, command_id: str, requested_by: str, at: datetime) -> None:
        """Crypto-shredded: the data keys of the customer and its interactions are destroyed."""
        self.identifiers = {}
        self.erased = True

    @event("SuspiciousLinkFlagged")
    def flag_suspicious(self, others: list[str], key: str, interaction_id: str, reason: str,
                        at: datetime) -> None:
        """A guard held a merge back; the card shows it."""


class Attribution(Aggregate):
    """The decision that one interaction belongs to one customer; carries the interaction."""

    @staticmethod
    def create_id(interaction_id: str, customer_id: str, interaction: dict[str, Any]) -> UUID:  # type: ignore[override]
        return UUID(interaction_id)

    @event("Attributed")
    def __init__(self, interaction_id: str, customer_id: str, interaction: dict[str, Any]) -> None:
        self.interaction_id = interaction_id
        self.customer_id = customer_id
        self.original_customer_id = customer_id  # the key its events travel under on customers.v1
        self.interaction = interaction

    @event("Reattributed")
    def reattribute(self, from_customer_id: str, customer_id: str, command_id: str,
                    original_customer_id: str) -> None:
        self.customer_id = customer_id
