"""The one place the api produces work events (to work.commands.v1), each with its access record.

The access record goes first: a write that cannot be audited is refused (503) before anything
reaches the log. The event is keyed by the customer it changes, so it stays in order with the
customer's other work.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from fastapi import Request
from kafka.errors import KafkaError
from pydantic import BaseModel

from events import topics
from events.catalog import AccessAction
from events.envelope import encode, wrap
from events.ids import work_id
from kartoteka.auth import Principal
from kartoteka.http import ApiError
from kartoteka.kafka import send_all

SOURCE = "kartoteka/api"


def new_id(request: Request, kind: str, who: Principal) -> str:
    """A fresh id, or the same one for a retried POST carrying the same ``Idempotency-Key``."""
    key = request.headers.get("idempotency-key")
    if key:
        return work_id(kind, who.subject, key[:200])
    return str(uuid.uuid4())


async def publish(request: Request, who: Principal, action: AccessAction, payload: BaseModel, *,
                  event_id: str, key: str, at: datetime, customer_ids: Iterable[str],
                  topic: str = topics.WORK_COMMANDS, query: str | None = None) -> None:
    """Audit the write, then put its event on ``topic`` (503 when Kafka does not acknowledge)."""
    state = request.app.state
    await state.auditor.record(request, who, action, customer_ids, query)
    envelope = wrap(payload, id=event_id, source=SOURCE, time=at, subject=key)
    value = encode(envelope)
    if topic == topics.WORK_COMMANDS:  # an employee's work on a customer: under the customer's key
        value = await state.keys.seal_for(key, value)
    record = (state.settings.topic(topic), key.encode(), value,
              [("event-type", envelope.type.encode())])
    try:
        await send_all(state.producer, [record], timeout_s=10)
    except (KafkaError, TimeoutError) as exc:
        raise ApiError(503, "broker_unavailable", f"Kafka did not acknowledge: {exc}",
                       {"Retry-After": "1"}) from exc
