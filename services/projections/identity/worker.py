"""Identity resolver: interactions.v1 -> customer events recorded with their Kafka positions."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking

from events import topics
from events.interaction import Interaction
from services.projections.identity.decide import Attribute, Command, Link, Register, decide
from services.projections.identity.domain import Attribution, Customer
from services.projections.identity.store import IdentityLog
from services.projections.runner import Decoded


class IdentityResolver:
    """Decides (pure) and records (eventsourcing), nothing else."""

    name = "resolver"
    topic = topics.INTERACTIONS

    def __init__(self, log: IdentityLog) -> None:
        self.log = log

    def apply(self, items: list[Decoded], trackings: list[Tracking]) -> None:
        batch = [(d.envelope.id, d.payload) for d in items if isinstance(d.payload, Interaction)]
        keys = sorted(
            {i.key for _, interaction in batch for i in interaction.customer.identifiers()}
        )
        commands = decide(batch, self.log.lookup(keys), self.log.attributed([i for i, _ in batch]))
        aggregates, index_rows = self._materialise(commands)
        self.log.record(aggregates, trackings, index_rows)

    def _materialise(self, commands: list[Command]) -> tuple[list[Any], list[tuple[str, str]]]:
        customers: dict[str, Customer] = {}
        attributions: list[Attribution] = []
        index_rows: list[tuple[str, str]] = []
        for command in commands:
            if isinstance(command, Register):
                customers[command.customer_id] = Customer(command.interaction_id, command.at)
            elif isinstance(command, Link):
                customer = customers.get(command.customer_id) or self._load(
                    command.customer_id, customers
                )
                ident = command.identifier
                customer.link_identifier(
                    ident.kind,
                    ident.value,
                    ident.valid,
                    command.interaction_id,
                    command.channel,
                    command.at,
                )
                index_rows.append((ident.key, command.customer_id))
            elif isinstance(command, Attribute):
                attributions.append(
                    Attribution(
                        command.interaction_id,
                        command.customer_id,
                        command.interaction.model_dump(mode="json"),
                    )
                )
        return [*customers.values(), *attributions], index_rows

    def _load(self, customer_id: str, customers: dict[str, Customer]) -> Customer:
        customer: Customer = self.log.repository.get(UUID(customer_id))
        customers[customer_id] = customer
        return customer
