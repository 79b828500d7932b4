"""Interactions for the resolver's decision tests, and which customer each was attributed to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from events.interaction import Interaction
from services.projections.identity.decide import Attribute
from tests.support.ids import interaction_id

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


def item(external_id: str, minutes: int = 0, channel: str = "web_form", **customer: str):
    interaction = Interaction.model_validate({
        "channel": channel, "external_id": external_id, "direction": "inbound",
        "occurred_at": (T0 + timedelta(minutes=minutes)).isoformat(), "customer": customer})
    return interaction_id(channel, external_id), interaction


def attributed_to(commands) -> dict[str, str]:
    return {c.interaction_id: c.customer_id for c in commands if isinstance(c, Attribute)}
