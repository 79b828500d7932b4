"""Real-client Kafka helpers for tests: produce raw or accepted records, read a topic back."""

from __future__ import annotations

import random
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from kartoteka import kafka
from kartoteka.settings import Settings
from services.ingest.accept import Accepted, accept
from tests.support.ids import SECRET

Raw = tuple[bytes | None, bytes, list[tuple[str, bytes]]]
"""A record as produced: key, value, headers."""


def accepted(item: dict[str, Any]) -> Accepted:
    """The record ingest would produce for ``item`` (fails the test if ingest would reject it)."""
    result = accept(item, SECRET)  # plain, as records from before sealing: any stable id will do
    assert isinstance(result, Accepted), f"test data rejected: {result!r}"
    return result


def as_raw(item: Accepted, now: datetime | None = None) -> Raw:
    return item.key, item.record(now or datetime.now(UTC)), [("event-type", b"interaction")]


def produce(settings: Settings, topic: str, records: Iterable[Raw], single_tail: int = 0) -> int:
    """Produce ``records`` in order to ``topic`` (the full name) and wait for every ack.

    The last ``single_tail`` records are sent one at a time, each in a batch of its own.
    Tansu answers ListOffsets(latest) with the last batch's base offset + 1, which is below
    the real end when that batch holds several records; ending every partition on a
    one-record batch keeps the end offsets exact (see test_restarts.py for the bug).
    """
    items = list(records)
    bulk, tail = items[: len(items) - single_tail], items[len(items) - single_tail :]
    producer = kafka.producer(settings)
    try:
        futures = [
            producer.send(topic, key=key, value=value, headers=headers)
            for key, value, headers in bulk
        ]
        producer.flush(60)
        for future in futures:
            future.get(30)
        for key, value, headers in tail:
            producer.send(topic, key=key, value=value, headers=headers).get(30)
        return len(items)
    finally:
        producer.close(10)


def _consumer(settings: Settings) -> KafkaConsumer:
    return kafka.consumer(settings, consumer_timeout_ms=2_000)


class EndOffsets:
    """How many records a topic holds (the sum of its partitions' end offsets), asked repeatedly."""

    def __init__(self, settings: Settings, topic: str) -> None:
        self._consumer = _consumer(settings)
        self._partitions = kafka.partitions_of(self._consumer, topic)

    def total(self) -> int:
        return sum(self._consumer.end_offsets(self._partitions).values())

    def close(self) -> None:
        self._consumer.close()


def read_all(settings: Settings, topic: str, timeout_s: float = 20, idle_ms: int = 700) -> list[ConsumerRecord]:
    """Every record ``topic`` holds: up to its end offsets, then until a poll of ``idle_ms`` brings nothing.

    The idle poll matters on Tansu, whose reported end offset can lag the real end (see ``produce``).
    """
    consumer = _consumer(settings)
    try:
        partitions = kafka.partitions_of(consumer, topic)
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends: dict[TopicPartition, int] = consumer.end_offsets(partitions)
        records: list[ConsumerRecord] = []
        deadline = time.monotonic() + timeout_s
        while True:
            if time.monotonic() > deadline:
                raise AssertionError(f"could not read {topic} to its end within {timeout_s}s")
            reached = all(consumer.position(tp) >= ends[tp] for tp in partitions)
            polled = consumer.poll(timeout_ms=idle_ms if reached else 200)
            batch = [r for part in polled.values() for r in part]
            records.extend(batch)
            if reached and not batch:
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


def read_opened(settings: Settings, topic: str) -> list[bytes]:
    """The values of every record on ``topic``, sealed ones opened with the keys still stored."""
    return opened(settings, read_all(settings, topic))


def opened(settings: Settings, records: list[ConsumerRecord]) -> list[bytes]:
    """The records' values, sealed ones opened (events/sealing.py) with the keys still stored."""
    import psycopg

    from events import sealing
    from kartoteka.keystore import KeyRing, fetch_sync, master_key

    values = [r.value for r in records]
    ring = KeyRing(master_key(settings))
    with psycopg.connect(settings.dsn) as conn:
        keys = fetch_sync(ring, conn, [sealing.subject_of(v) for v in values if sealing.is_sealed(v)])
    return [sealing.unseal(keys[sealing.subject_of(v)], v) if sealing.is_sealed(v) else v for v in values]
