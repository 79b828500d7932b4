"""The one place the api produces access events (to access.v1)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from fastapi import Request
from kafka import KafkaProducer
from kafka.errors import KafkaError

from events.catalog import AccessAction, AccessRecorded
from events.envelope import encode, wrap
from kartoteka.auth import Principal
from kartoteka.http import ApiError
from kartoteka.kafka import send_all

log = logging.getLogger(__name__)
SOURCE = "kartoteka/api"


class AccessAuditor:
    """Records who read what. Fails closed: an unaudited read is refused (configurable)."""

    def __init__(self, producer: KafkaProducer, topic: str, fail_closed: bool = True) -> None:
        self.producer = producer
        self.topic = topic
        self.fail_closed = fail_closed

    async def record(
        self,
        request: Request,
        principal: Principal,
        action: AccessAction,
        customer_ids: Iterable[str],
        query: str | None = None,
    ) -> None:
        route = getattr(request.scope.get("route"), "path", request.url.path)
        event = AccessRecorded(
            employee_id=principal.subject,
            role=principal.role.value,
            action=action,
            customer_ids=list(dict.fromkeys(customer_ids))[:500],
            at=datetime.now(UTC),
            request_id=request.state.request_id,
            client=request.client.host if request.client else None,
            route=route,
            query=query[:500] if query else None,
        )
        envelope = wrap(
            event, id=str(uuid.uuid4()), source=SOURCE, time=event.at, subject=principal.subject
        )
        try:
            await send_all(
                self.producer,
                [
                    (
                        self.topic,
                        principal.subject.encode(),
                        encode(envelope),
                        [("event-type", envelope.type.encode())],
                    )
                ],
                timeout_s=5,
            )
        except (KafkaError, TimeoutError) as exc:
            log.error("access event not recorded", extra={"action": action, "error": str(exc)})
            if self.fail_closed:
                raise ApiError(
                    503, "audit_unavailable", "the access could not be audited, so it is refused"
                ) from exc
