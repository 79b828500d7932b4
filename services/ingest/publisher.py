"""The one place ingest talks to Kafka."""

from __future__ import annotations

from datetime import datetime

from kafka import KafkaProducer

from events import topics
from events.catalog import INTERACTION_RECEIVED
from kartoteka.kafka import send_all
from services.ingest.accept import Accepted, records


class KafkaPublisher:
    """Produces interactions to ``interactions.v1`` keyed by their primary identifier."""

    def __init__(self, producer: KafkaProducer, topic: str = topics.INTERACTIONS) -> None:
        self.producer = producer
        self.topic = topic

    async def publish(self, items: list[Accepted], received_at: datetime) -> None:
        headers = [("event-type", INTERACTION_RECEIVED.encode())]
        values = records(items, received_at)
        await send_all(
            self.producer,
            [(self.topic, item.key, value, headers) for item, value in zip(items, values, strict=True)],
        )
