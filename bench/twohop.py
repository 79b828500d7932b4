"""Raw two-hop baseline for the drain: the pipeline's shape with plain parts and nothing between them.

Hop 1 consumes ``interactions.v1`` from offset zero, opens each polled batch (one key fetch, as
every reader must), COPYs it into a table and commits, then produces the batch to a second topic
and waits for the acks (state first, then send, as an outbox relay would). Hop 2 consumes that
topic, opens it again and COPYs timeline-shaped rows (``baselines.copy_rows``). Each hop runs in
its own process, concurrently, as the resolver and the card + timeline worker do; the figure is
records from hop 1's first poll to hop 2's last commit.
"""

from __future__ import annotations

import json
import multiprocessing
import time
import uuid
from typing import Any

from bench.baselines import copy_rows, create_topic, opened
from kartoteka import kafka
from kartoteka.settings import Settings

HOP_TABLE = "bench_hop"
STARTUP_S = 60


def raw_two_hop(settings: Settings, topic_name: str, expected: int) -> dict[str, Any]:
    """Records/s through both hops, each in its own process; also each hop's own figures."""
    middle = settings.topic(f"bench.hop.{uuid.uuid4().hex[:8]}")
    create_topic(settings, middle)
    ctx = multiprocessing.get_context("spawn")  # no inherited threads or sockets
    results = ctx.Queue()
    ready = ctx.Event()
    second = ctx.Process(target=_second, args=(settings, middle, expected, ready, results))
    first = ctx.Process(target=_first, args=(settings, settings.topic(topic_name), middle, expected, ready,
                                             results))
    second.start()
    first.start()
    try:
        found = dict(results.get(timeout=STARTUP_S + 120 + expected / 100) for _ in range(2))
    finally:
        for process in (first, second):
            process.join(30)
            if process.is_alive():
                process.kill()
    hop1, hop2 = found["hop1"], found["hop2"]
    seconds = hop2["ended"] - hop1["started"]
    return {"records": hop2["records"], "rows": hop2["rows"], "seconds": round(seconds, 3),
            "per_s": round(hop2["rows"] / seconds, 1),
            "hop1_per_s": round(hop1["records"] / (hop1["ended"] - hop1["started"]), 1),
            "hop2_lag_s": round(hop2["ended"] - hop1["ended"], 3)}


def _first(settings: Settings, source: str, middle: str, expected: int, ready: Any, results: Any) -> None:
    import psycopg

    from kartoteka.keystore import KeyRing, master_key

    ring = KeyRing(master_key(settings))
    producer = kafka.producer(settings)
    consumer = kafka.consumer(settings)
    with psycopg.connect(settings.dsn) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {HOP_TABLE}")
        conn.execute(f"CREATE TABLE {HOP_TABLE} (event_id uuid PRIMARY KEY, key bytea, data jsonb)")
        conn.commit()
        partitions = kafka.partitions_of(consumer, source)
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ready.wait(STARTUP_S)
        started, done = time.time(), 0
        while done < expected:
            polled = consumer.poll(timeout_ms=500, max_records=settings.batch_max_records)
            batch = [r for rs in polled.values() for r in rs]
            if not batch:
                continue
            values = opened(ring, conn, batch)
            with conn.cursor() as cur, cur.copy(f"COPY {HOP_TABLE} (event_id, key, data) FROM STDIN") as copy:
                for record, value in zip(batch, values, strict=True):
                    envelope = json.loads(value)
                    copy.write_row((envelope["id"], record.key, json.dumps(envelope["data"])))
            conn.commit()
            futures = [producer.send(middle, key=r.key, value=r.value) for r in batch]
            producer.flush(60)
            for future in futures:
                future.get(30)
            done += len(batch)
        results.put(("hop1", {"records": done, "started": started, "ended": time.time()}))
    consumer.close()
    producer.close(10)


def _second(settings: Settings, middle: str, expected: int, ready: Any, results: Any) -> None:
    import psycopg

    from kartoteka.keystore import KeyRing, master_key

    ring = KeyRing(master_key(settings))
    consumer = kafka.consumer(settings)
    with psycopg.connect(settings.dsn) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_timeline")
        conn.execute("CREATE TABLE bench_timeline (LIKE timeline INCLUDING ALL)")
        conn.commit()
        partitions = kafka.partitions_of(consumer, middle)
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        consumer.poll(timeout_ms=0)  # connected and fetching before hop 1 starts
        ready.set()
        done = rows = 0
        while done < expected:
            polled = consumer.poll(timeout_ms=500, max_records=settings.batch_max_records)
            batch = [r for rs in polled.values() for r in rs]
            if batch:
                rows += copy_rows(conn, "bench_timeline", batch, opened(ring, conn, batch))
                done += len(batch)
        results.put(("hop2", {"records": done, "rows": rows, "ended": time.time()}))
    consumer.close()
