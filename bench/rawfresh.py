"""Raw freshness baseline: plain kafka-python produce at a steady rate, a plain consumer that COPYs
each polled batch into a timeline-shaped table and commits; latency = commit time - ack time."""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
from kafka import TopicPartition

from bench.baselines import Record, copy_rows, create_topic
from bench.stats import summary
from kartoteka import kafka
from kartoteka.settings import Settings


def raw_freshness(
    settings: Settings, topic_name: str, batch: list[Record], rate: float, seconds: float
) -> dict[str, Any]:
    """One Kafka hop plus one Postgres commit, at the offered rate the pipeline is measured at."""
    topic = settings.topic(topic_name)
    create_topic(settings, topic)
    with psycopg.connect(settings.dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_fresh")
        conn.execute("CREATE TABLE bench_fresh (LIKE timeline INCLUDING ALL)")
    acked: dict[tuple[int, int], float] = {}
    committed: dict[tuple[int, int], float] = {}
    stop = threading.Event()
    ready = threading.Event()
    reader = threading.Thread(
        target=_consume, args=(settings, topic, committed, stop, ready), daemon=True
    )
    reader.start()
    ready.wait(30)
    sent = _produce_paced(settings, topic, batch[: int(rate * seconds)], rate, acked)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not all(k in committed for k in acked):
        time.sleep(0.05)
    stop.set()
    reader.join(10)
    latencies = [(committed[k] - t) * 1000 for k, t in acked.items() if k in committed]
    return {"sent": sent, "rate": rate, "latency_ms": summary(latencies), "unseen": sent - len(latencies)}


def _produce_paced(
    settings: Settings, topic: str, batch: list[Record], rate: float, acked: dict[tuple[int, int], float]
) -> int:
    producer = kafka.producer(settings)

    def on_ack(metadata: Any) -> None:
        acked[(metadata.partition, metadata.offset)] = time.time()

    try:
        started = time.monotonic()
        for i, (key, value, headers) in enumerate(batch):
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            producer.send(topic, key=key, value=value, headers=headers).add_callback(on_ack)
        producer.flush(30)
    finally:
        producer.close(10)
    return len(batch)


def _consume(
    settings: Settings,
    topic: str,
    committed: dict[tuple[int, int], float],
    stop: threading.Event,
    ready: threading.Event,
) -> None:
    consumer = kafka.consumer(settings)
    try:
        partitions: list[TopicPartition] = kafka.partitions_of(consumer, topic)
        consumer.assign(partitions)
        consumer.seek_to_end(*partitions)
        for tp in partitions:
            consumer.position(tp)
        ready.set()
        with psycopg.connect(settings.dsn) as conn:
            while not stop.is_set():
                polled = consumer.poll(timeout_ms=200, max_records=settings.batch_max_records)
                batch = [r for rs in polled.values() for r in rs]
                if batch:
                    copy_rows(conn, "bench_fresh", batch)
                    now = time.time()
                    committed.update({(r.partition, r.offset): now for r in batch})
    finally:
        consumer.close()
