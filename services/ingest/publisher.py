"""The one place ingest talks to Kafka (and to PostgreSQL, for its receipts and data keys)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from kafka import KafkaProducer
from psycopg.rows import tuple_row
from psycopg_pool import AsyncConnectionPool

from events import sealing, topics
from events.catalog import INTERACTION_RECEIVED
from kartoteka.kafka import send_all
from kartoteka.keystore import KeyRing
from services.ingest.accept import Accepted, records
from services.ingest.receipts import SEEN_THEN_ISSUE

_HEADERS = [("event-type", INTERACTION_RECEIVED.encode())]
Stages = Callable[[str, float], None]  # (stage, seconds) per flush: the operator's metric


def _unobserved(stage: str, seconds: float) -> None:
    return None


class KafkaPublisher:
    """Produces interactions to ``interactions.v1``, each sealed under its own data key.

    The record key is a keyed token of the primary identifier (same partition for the same
    person, but no phone number or address on the log); the keys are stored (one statement
    per batch, which also finds the ids received before) before the records are produced, so
    nothing on the log lacks its key.
    """

    def __init__(self, producer: KafkaProducer, pool: AsyncConnectionPool, ring: KeyRing,
                 topic: str = topics.INTERACTIONS, stages: Stages = _unobserved) -> None:
        self.producer = producer
        self.stages = stages
        self.pool = pool
        self.ring = ring
        self.topic = topic
        self.id_secret = ring.id_secret

    async def publish(self, items: list[Accepted], received_at: datetime) -> set[str]:
        """Produces the items the resolver has not recorded; returns the ids of those it has."""
        ids = [item.id for item in items]
        subjects = [sealing.interaction_subject(id_) for id_ in ids]
        names, wrapped, proposed = self.ring.new_rows(subjects)
        started = time.perf_counter()
        async with self.pool.connection() as conn, conn.cursor(row_factory=tuple_row) as cursor:
            await cursor.execute(SEEN_THEN_ISSUE, (ids, names, wrapped, ids))
            rows = await cursor.fetchall()
        keyed = time.perf_counter()
        recorded = {row[0] for row in rows if row[1] is None}
        keys = self.ring.issued(proposed, [row for row in rows if row[1] is not None],
                                dict(zip(names, wrapped, strict=True)))
        self.ring.forget(subjects)  # ingest never reads them again
        # No key for an erased or expired interaction (its subject is shredded): a re-sent copy
        # is not produced, so nothing erased comes back (a recorded one is a duplicate first).
        fresh = [(item, subject) for item, subject in zip(items, subjects, strict=True) if subject in keys]
        values = records([item for item, _ in fresh], received_at)
        sealed = [sealing.interaction_record(keys[subject], self.ring.pepper, item.id, item.subject, value)
                  for (item, subject), value in zip(fresh, values, strict=True)]
        sealed_at = time.perf_counter()
        await send_all(self.producer, [(self.topic, key, value, _HEADERS) for key, value in sealed], now=True)
        self.stages("keys", keyed - started)
        self.stages("seal", sealed_at - keyed)
        self.stages("produce", time.perf_counter() - sealed_at)
        return recorded
