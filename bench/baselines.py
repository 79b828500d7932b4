"""Raw limits of the parts we are built from: plain kafka-python and plain COPY, no Kartoteka code
between them, against the same broker and the same PostgreSQL as the services."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from kafka.admin import NewTopic

from bench.payloads import BENCH_ID_SECRET, item
from events.catalog import INTERACTION_RECEIVED
from kartoteka import kafka
from kartoteka.settings import Settings
from services.ingest.accept import Accepted, accept

Record = tuple[bytes, bytes, list[tuple[str, bytes]]]
TIMELINE_COLUMNS = (
    "interaction_id, customer_id, seq, external_id, channel, direction, occurred_at, agent_id,"
    " subject, body, details"
)


def records(run: str, count: int, customers: int) -> list[Record]:
    """Exactly the records ingest produces for items ``0..count`` of ``run`` (encoded up front)."""
    now = datetime.now(UTC)
    found = []
    for n in range(count):
        accepted = accept(item(run, n, customers), BENCH_ID_SECRET)
        assert isinstance(accepted, Accepted), accepted
        found.append((accepted.key, accepted.record(now), [("event-type", INTERACTION_RECEIVED.encode())]))
    return found


def raw_produce(settings: Settings, batch: list[Record], topic_name: str) -> dict[str, float]:
    """Produce ``batch`` with ``kartoteka.kafka.PRODUCER_DEFAULTS`` (acks=all) and wait for every ack."""
    topic = settings.topic(topic_name)
    create_topic(settings, topic)
    producer = kafka.producer(settings)
    try:
        producer.send(topic, key=batch[0][0], value=batch[0][1]).get(30)  # metadata, connection
        started, cpu_started = time.perf_counter(), time.process_time()
        futures = [producer.send(topic, key=k, value=v, headers=h) for k, v, h in batch]
        producer.flush(120)
        for future in futures:
            future.get(30)
        seconds = time.perf_counter() - started
        # This process's threads (the caller's and kafka-python's sender): what one record costs
        # a bare produce, beside ingest's CPU per interaction.
        cpu_s = time.process_time() - cpu_started
    finally:
        producer.close(10)
    return {"records": len(batch), "seconds": round(seconds, 3), "per_s": round(len(batch) / seconds, 1),
            "cpu_us_per_record": round(cpu_s / len(batch) * 1e6, 1)}


def create_topic(settings: Settings, topic: str) -> None:
    client = kafka.admin(settings)
    try:
        if topic not in set(client.list_topics()):
            client.create_topics([NewTopic(topic, settings.partitions, 1)])
        kafka._wait_for_metadata(client, [topic])  # noqa: SLF001 - same helper the product uses
    finally:
        client.close()


def raw_consume_copy(settings: Settings, topic_name: str, expected: int) -> dict[str, float]:
    """Read ``expected`` records of a topic from offset zero and COPY them into a table shaped like
    ``timeline`` (same columns and indexes), one transaction per polled batch, like a projection.

    The records are sealed (README, Personal data): the baseline opens them as any reader must,
    with one key fetch per batch, so the ratio weighs the pipeline's work, not the encryption's.
    """
    import psycopg

    from kartoteka.keystore import KeyRing, master_key

    ring = KeyRing(master_key(settings))

    with psycopg.connect(settings.dsn) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_timeline")
        conn.execute("CREATE TABLE bench_timeline (LIKE timeline INCLUDING ALL)")
        conn.commit()
        consumer = kafka.consumer(settings)
        try:
            partitions = kafka.partitions_of(consumer, settings.topic(topic_name))
            consumer.assign(partitions)
            consumer.seek_to_beginning(*partitions)
            started, done, rows = time.perf_counter(), 0, 0
            while done < expected:
                polled = consumer.poll(timeout_ms=500, max_records=settings.batch_max_records)
                batch = [r for rs in polled.values() for r in rs]
                rows += copy_rows(conn, "bench_timeline", batch, opened(ring, conn, batch))
                done += len(batch)
            seconds = time.perf_counter() - started
        finally:
            consumer.close()
    return {
        "records": done, "rows": rows, "seconds": round(seconds, 3), "per_s": round(rows / seconds, 1)
    }


def opened(ring: Any, conn: Any, batch: list[Any]) -> list[bytes]:
    from events import sealing
    from kartoteka.keystore import fetch_sync

    values = [r.value for r in batch]
    keys = fetch_sync(ring, conn, [sealing.subject_of(v) for v in values if sealing.is_sealed(v)])
    conn.commit()
    return [sealing.unseal(keys[sealing.subject_of(v)], v) if sealing.is_sealed(v) else v for v in values]


def copy_rows(conn: Any, table: str, batch: list[Any], values: list[bytes] | None = None) -> int:
    """COPY the timeline rows of ``batch`` (``values``: its records' values opened) into ``table``
    and commit; the number of rows."""
    rows = list(_rows(batch, values or [r.value for r in batch]))
    if rows:
        with conn.cursor() as cur, cur.copy(f"COPY {table} ({TIMELINE_COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    conn.commit()
    return len(rows)


def _rows(batch: list[Any], values: list[bytes]) -> Iterator[tuple[Any, ...]]:
    """Timeline rows from raw interactions (interactions.v1) or attributions (customers.v1)."""
    for record, value in zip(batch, values, strict=True):
        envelope = json.loads(value)
        data = envelope["data"]
        if "interaction" in data:  # an attribution: the customer is already known
            customer, iid, data = data["customer_id"], data["interaction_id"], data["interaction"]
        elif "external_id" in data:
            customer, iid = uuid.uuid5(uuid.NAMESPACE_URL, record.key.decode()), envelope["id"]
        else:  # registrations and identifier links carry no timeline row
            continue
        yield (
            iid, customer, record.offset,
            data["external_id"], data["channel"], data["direction"], data["occurred_at"],
            data.get("agent_id"), data.get("subject"), data.get("body"),
            json.dumps(data.get("details") or {}, ensure_ascii=False),
        )
