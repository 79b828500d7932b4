"""The one place the api produces identity commands (to identity.commands.v1)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from kafka import KafkaProducer

from events.envelope import encode, wrap
from events.identity import SplitRequested
from kartoteka.kafka import send_all
from services.api.data_keys import ApiKeys

SOURCE = "kartoteka/api"


async def request_split(producer: KafkaProducer, topic: str, *, root_id: str, keys: list[str],
                        target_id: str | None, requested_by: str, reason: str | None,
                        sealer: ApiKeys) -> SplitRequested:
    """Put a split on the identity log (sealed under the customer's key: it names identifiers);
    the resolver carries it out in order with interactions."""
    command = SplitRequested(command_id=str(uuid.uuid4()), customer_id=root_id, keys=keys,
                             target_customer_id=target_id, requested_by=requested_by, reason=reason,
                             at=datetime.now(UTC))
    envelope = wrap(command, id=command.command_id, source=SOURCE, time=command.at, subject=root_id)
    value = await sealer.seal_for(root_id, encode(envelope))
    await send_all(producer, [(topic, root_id.encode(), value, [("event-type", envelope.type.encode())])])
    return command
