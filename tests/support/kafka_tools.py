"""Real-client Kafka helpers for tests: produce raw or accepted records, read a topic back."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from kartoteka import kafka
from kartoteka.settings import Settings
from services.ingest.accept import Accepted, accept

Raw = tuple[bytes | None, bytes, list[tuple[str, bytes]]]
"""A record as produced: key, value, headers."""


def accepted(item: dict[str, Any]) -> Accepted:
    """The record ingest would produce for ``item`` (fails the test if ingest would reject it)."""
    result = accept(item)
    assert isinstance(result, Accepted), f"test data rejected: {result!r}"
    return result


def as_raw(item: Accepted, now: datetime | None = None) -> Raw:
    return item.key, item.record(now or datetime.now(UTC)), [("event-type", b"interaction")]


def produce(settings: Settings, topic: str, records: Iterable[Raw]) -> int:
    """Produce ``records`` in order to ``topic`` (the full name) and wait for every ack."""
    producer = kafka.producer(settings)
    try:
        futures = [
            producer.send(topic, key=key, value=value, headers=headers)
            for key, value, headers in records
        ]
        producer.flush(60)
        for future in futures:
            future.get(30)
        return len(futures)
    finally:
        producer.close(10)


def _consumer(settings: Settings) -> KafkaConsumer:
    return kafka.consumer(settings, consumer_timeout_ms=2_000)


def end_offsets(settings: Settings, topic: str) -> dict[int, int]:
    consumer = _consumer(settings)
    try:
        partitions = kafka.partitions_of(consumer, topic)
        return {tp.partition: end for tp, end in consumer.end_offsets(partitions).items()}
    finally:
        consumer.close()


def read_all(settings: Settings, topic: str, timeout_s: float = 20) -> list[ConsumerRecord]:
    """Every record of ``topic`` up to its end offsets at the time of the call."""
    import time

    consumer = _consumer(settings)
    try:
        partitions = kafka.partitions_of(consumer, topic)
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends: dict[TopicPartition, int] = consumer.end_offsets(partitions)
        records: list[ConsumerRecord] = []
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < ends[tp] for tp in partitions):
            if time.monotonic() > deadline:
                raise AssertionError(f"could not read {topic} to its end within {timeout_s}s")
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(r for r in batch if r.offset < ends[TopicPartition(r.topic, r.partition)])
        return sorted(records, key=lambda r: (r.partition, r.offset))
    finally:
        consumer.close()


@dataclass(frozen=True)
class Workload:
    """Interactions for a load: distinct ones plus exact re-deliveries, as produced."""

    distinct: list[Accepted]
    records: list[Raw]

    @property
    def ids(self) -> set[str]:
        return {a.id for a in self.distinct}


def workload(
    interactions: int = 5_000,
    customers: int = 1_000,
    shared_phones: int = 50,
    duplicates: int = 20,
    seed: int | None = None,
) -> Workload:
    """Interactions spread over ``customers`` people, some of whom share a phone.

    Every customer has an email; ``shared_phones`` of them use another customer's phone
    (a family line), so the identity graph has to link, not just register. ``duplicates``
    records are exact re-deliveries of earlier ones, interleaved with the rest.
    """
    rng = random.Random(seed)
    base = rng.randrange(0, 9_000_000)
    phones = [f"8 (916) {(base + i) // 10000:03d}-{((base + i) // 100) % 100:02d}-{(base + i) % 100:02d}"
              for i in range(customers)]
    for i in rng.sample(range(1, customers), shared_phones):
        phones[i] = phones[i - 1]
    tag = f"{rng.getrandbits(40):010x}"
    start = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    channels = ("call", "email", "chat", "sms", "web_form")
    distinct: list[Accepted] = []
    for n in range(interactions):
        who = rng.randrange(customers)
        customer: dict[str, str] = {"name": f"Клиент {who}", "email": f"c{who}.{tag}@example.ru"}
        if rng.random() < 0.8:
            customer["phone"] = phones[who]
        distinct.append(
            accepted(
                {
                    "channel": channels[n % len(channels)],
                    "external_id": f"load-{tag}-{n}",
                    "occurred_at": (start + timedelta(seconds=37 * n)).isoformat(),
                    "direction": "inbound" if n % 3 else "outbound",
                    "customer": customer,
                    "agent_id": f"emp-{n % 17}",
                    "body": f"обращение {n}",
                }
            )
        )
    now = datetime.now(UTC)
    records = [as_raw(a, now) for a in distinct]
    for _ in range(duplicates):
        original = records[rng.randrange(len(records) // 2)]
        records.insert(rng.randrange(len(records) // 2, len(records)), original)
    return Workload(distinct, records)
