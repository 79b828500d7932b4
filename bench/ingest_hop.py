"""CPU per interaction on the ingest hop, by part: ``python -m bench.ingest_hop [--batches N]``.

Runs the steps of ``POST /v1/interactions/batch`` in-process against the embedded PostgreSQL and
Tansu (``tests.support.infra``), 500-item bodies from ``bench.payloads``, and times each part
with ``time.process_time`` (every thread of the process: the producer's sender thread counts in
``produce``). The steps are the ones the route and ``KafkaPublisher.publish`` call, in their order.
Writes ``bench/results/ingest-hop.json``; run it under ``py-spy record --format flamegraph`` for
the flame graph of the same work. The process's GC is tuned as ingest's (``--default-gc`` not).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from psycopg.rows import tuple_row
from psycopg_pool import AsyncConnectionPool

from bench.payloads import batch_body
from events import sealing, topics
from events.catalog import INTERACTION_RECEIVED
from kartoteka import kafka
from kartoteka.entrypoints.serving import tune_gc
from kartoteka.keystore import KeyRing, master_key
from kartoteka.settings import Settings
from services.ingest.accept import accepted, records
from services.ingest.receipts import SEEN_THEN_ISSUE, Receipts
from services.ingest.routes import _VALID_BATCH, results_json
from services.ingest.service import ItemResult

OUT = Path(__file__).resolve().parent / "results" / "ingest-hop.json"


class Clock:
    """CPU seconds per named part."""

    def __init__(self) -> None:
        self.parts: dict[str, float] = defaultdict(float)
        self._last = time.process_time()

    def lap(self, part: str) -> None:
        now = time.process_time()
        self.parts[part] += now - self._last
        self._last = now


async def _one_batch(body: bytes, clock: Clock, receipts: Receipts, pool: AsyncConnectionPool, ring: KeyRing,
                     producer: Any, topic: str) -> None:
    clock.lap("(between batches)")
    valid = _VALID_BATCH.validate_json(body)
    clock.lap("validate (pydantic, from bytes)")
    items = [accepted(i, ring.id_secret) for i in valid.items]
    clock.lap("ids and record keys")
    ids = [a.id for a in items]
    receipts.recent(ids)
    subjects = [sealing.interaction_subject(i) for i in ids]
    names, wrapped, proposed = ring.new_rows(subjects)
    async with pool.connection() as conn, conn.cursor(row_factory=tuple_row) as cursor:
        await cursor.execute(SEEN_THEN_ISSUE, (ids, names, wrapped, ids))
        rows = await cursor.fetchall()
    keys = ring.issued(proposed, [r for r in rows if r[1] is not None], dict(zip(names, wrapped, strict=True)))
    ring.forget(subjects)
    clock.lap("duplicate check and data keys (one statement)")
    values = records(items, datetime.now(UTC))
    clock.lap("serialise envelopes")
    sealed = [sealing.interaction_record(keys[s], ring.pepper, a.id, a.subject, v)
              for a, v, s in zip(items, values, subjects, strict=True)]
    clock.lap("seal (AES-GCM) and key token")
    headers = [("event-type", INTERACTION_RECEIVED.encode())]
    await kafka.send_all(producer, [(topic, k, v, headers) for k, v in sealed], now=True)
    clock.lap("produce and wait for acks")
    receipts.remember([a.id for a in items])
    results_json([ItemResult(a.id, "accepted") for a in items])
    clock.lap("remember, answer JSON")


async def measure(settings: Settings, batches: int, size: int) -> dict[str, Any]:
    bodies = [batch_body("hop", n * size, size, 4_000) for n in range(batches + 2)]
    producer = kafka.producer(settings)
    pool = AsyncConnectionPool(settings.dsn, min_size=1, max_size=2, open=False, kwargs={"autocommit": True})
    await pool.open()
    try:
        ring, receipts = KeyRing(master_key(settings)), Receipts()
        topic = settings.topic(topics.INTERACTIONS)
        clock = Clock()
        for n, body in enumerate(bodies):
            if n == 2:  # the first two warm connections and caches up
                clock = Clock()
            await _one_batch(body, clock, receipts, pool, ring, producer, topic)
    finally:
        producer.close(10)
        await pool.close()
    clock.parts.pop("(between batches)", None)
    total = sum(clock.parts.values())
    count = batches * size
    return {"interactions": count, "us_per_interaction": round(total / count * 1e6, 1),
            "parts": {k: {"us": round(v / count * 1e6, 1), "share": round(100 * v / total, 1)}
                      for k, v in sorted(clock.parts.items(), key=lambda kv: -kv[1])}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest_hop", description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--size", type=int, default=500)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--default-gc", action="store_true", help="keep Python's GC thresholds (ingest tunes them)")
    args = parser.parse_args(argv)
    if not args.default_gc:
        tune_gc("ingest")  # as the service process does
    from tests.support import infra as infra_module

    infra = infra_module.start()
    try:
        settings = infra.new_settings()
        kafka.ensure_topics(settings)
        found = asyncio.run(measure(settings, args.batches, args.size))
    finally:
        infra.stop()
    found["loadavg"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(found, indent=1, ensure_ascii=False))
    print(f"{found['us_per_interaction']} us CPU per interaction (load average {found['loadavg']})")
    for part, figure in found["parts"].items():
        print(f"  {part:<36} {figure['us']:>7.1f} us  {figure['share']:>5.1f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
