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

from events.ids import customer_id_for


class Customer(Aggregate):
    """One real person, known by the identifiers interactions proved to be theirs."""

    @staticmethod
    def create_id(first_interaction_id: str, at: datetime) -> UUID:  # type: ignore[override]
        return UUID(customer_id_for(first_interaction_id))

    @event("Registered")
    def __init__(self, first_interaction_id: str, at: datetime) -> None:
        self.first_interaction_id = first_interaction_id
        self.registered_at = at
        self.identifiers: dict[str, str] = {}

    @event("IdentifierLinked")
    def link_identifier(
        self, kind: str, value: str, valid: bool, interaction_id: str, channel: str, at: datetime
    ) -> None:
        self.identifiers[f"{kind}:{value}"] = interaction_id


class Attribution(Aggregate):
    """The decision that one interaction belongs to one customer; carries the interaction."""

    @staticmethod
    def create_id(interaction_id: str, customer_id: str, interaction: dict[str, Any]) -> UUID:  # type: ignore[override]
        return UUID(interaction_id)

    @event("Attributed")
    def __init__(self, interaction_id: str, customer_id: str, interaction: dict[str, Any]) -> None:
        self.interaction_id = interaction_id
        self.customer_id = customer_id
        self.interaction = interaction
