"""Deterministic identifiers: a retried delivery must map to the same event."""

from __future__ import annotations

import uuid

# Fixed namespace: changing it would re-key every interaction ever received.
KARTOTEKA_NS = uuid.UUID("6f6b6f2e-6b61-7274-6f74-656b612e7631")


def interaction_id(channel: str, external_id: str) -> str:
    """The event id of an interaction, stable across retries and restarts."""
    return str(uuid.uuid5(KARTOTEKA_NS, f"interaction:{channel}:{external_id}"))


def customer_id_for(first_interaction_id: str) -> str:
    """A new customer's id, derived from the interaction that revealed them.

    Deriving it (rather than drawing a random one) makes a replay from offset
    zero produce the same customers.
    """
    return str(uuid.uuid5(KARTOTEKA_NS, f"customer:{first_interaction_id}"))


def derived_event_id(origin: str, version: int) -> str:
    """Id of a published domain event: one per (aggregate, version)."""
    return str(uuid.uuid5(KARTOTEKA_NS, f"event:{origin}:{version}"))


def split_target_id(command_id: str) -> str:
    """The new customer a split creates, stable when the command is replayed."""
    return str(uuid.uuid5(KARTOTEKA_NS, f"split:{command_id}"))
