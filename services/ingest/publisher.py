"""The one place ingest talks to Kafka."""

from __future__ import annotations

from datetime import datetime

from kafka import KafkaProducer
from psycopg_pool import AsyncConnectionPool

from events import sealing, topics
from events.catalog import INTERACTION_RECEIVED
from kartoteka.kafka import send_all
from kartoteka.keystore import KeyRing, issue_async
from services.ingest.accept import Accepted, records


class KafkaPublisher:
    """Produces interactions to ``interactions.v1``, each sealed under its own data key.

    The record key is a keyed token of the primary identifier (same partition for the same
    person, but no phone number or address on the log); the keys are stored (one statement
    per batch) before the records are produced, so nothing on the log lacks its key.
    """

    def __init__(self, producer: KafkaProducer, pool: AsyncConnectionPool, ring: KeyRing,
                 topic: str = topics.INTERACTIONS) -> None:
        self.producer = producer
        self.pool = pool
        self.ring = ring
        self.topic = topic
        self.id_secret = ring.id_secret

    async def publish(self, items: list[Accepted], received_at: datetime) -> None:
        headers = [("event-type", INTERACTION_RECEIVED.encode())]
        values = records(items, received_at)
        subjects = [sealing.interaction_subject(item.id) for item in items]
        async with self.pool.connection() as conn:
            keys = await issue_async(self.ring, conn, subjects)
        self.ring.forget(subjects)  # ingest never reads them again
        # No key for an erased or expired interaction (its subject is shredded): a re-sent copy
        # is not produced, so nothing erased comes back (receipts answer it as a duplicate first).
        sealed = [sealing.interaction_record(keys[subject], self.ring.pepper, item.id, item.subject, value)
                  for item, value, subject in zip(items, values, subjects, strict=True) if subject in keys]
        await send_all(self.producer, [(self.topic, key, value, headers) for key, value in sealed], now=True)
