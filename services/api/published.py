"""The signed checkpoints published to ``audit.checkpoints.v1``, read whole for
``/v1/audit/verify`` (the api's only Kafka consumer): the copy of the chain's checkpoints that
neither the database nor the anchor file holds."""

from __future__ import annotations

from kafka.errors import KafkaError

from events import topics
from events.audit.anchor import Published
from events.audit.chain import Checkpoint
from events.catalog import AuditCheckpointSigned
from events.envelope import decode
from kartoteka import kafka
from kartoteka.settings import Settings


def read_published(settings: Settings, chain: str, timeout_s: float = 15) -> list[Published]:
    """Every checkpoint of ``chain`` on the topic, from its start to its current end.

    Raises KafkaError when the topic cannot be read to its end in ``timeout_s``."""
    consumer = kafka.consumer(settings, max_poll_records=5000)
    try:
        parts = kafka.partitions_of(consumer, settings.topic(topics.AUDIT_CHECKPOINTS), timeout_s)
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        ends = consumer.end_offsets(parts)
        found: list[Published] = []
        polls = int(timeout_s / 0.5) + 1
        while any(consumer.position(p) < ends[p] for p in parts):
            if polls == 0:
                raise KafkaError("audit.checkpoints.v1 not read to its end in time")
            polls -= 1
            for records in consumer.poll(timeout_ms=500).values():
                found += [p for p in (_published(r.value, chain) for r in records) if p is not None]
        return found
    finally:
        consumer.close()


def _published(raw: bytes, chain: str) -> Published | None:
    _, event = decode(raw)
    if not isinstance(event, AuditCheckpointSigned) or event.chain != chain:
        return None
    return Published(Checkpoint(event.seq, event.hash, event.signature), event.signed_at)
