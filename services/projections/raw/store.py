"""The raw validator's outbox: rows written with the tracked position, published by a relay."""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore
from kafka import KafkaProducer

from services.projections.tracking import Positions

log = logging.getLogger(__name__)
INSERT = ("INSERT INTO channel_outbox (topic, key, value, headers)"
          " VALUES (%(topic)s, %(key)s, %(value)s, %(headers)s)")
PENDING = "SELECT position, topic, key, value, headers FROM channel_outbox ORDER BY position LIMIT %s"
SENT = "DELETE FROM channel_outbox WHERE position = ANY(%s)"  # exactly those sent: a late commit stays


def outbox_row(topic: str, key: bytes | None, value: bytes,
               headers: list[tuple[str, bytes]]) -> dict[str, Any]:
    encoded = [[name, raw.decode("latin-1")] for name, raw in headers]  # bytes kept one to one
    return {"topic": topic, "key": key, "value": value, "headers": json.dumps(encoded)}


class Outbox:
    """Writes rows with the positions (one transaction); the relay sends and deletes them."""

    def __init__(self, datastore: PostgresDatastore, positions: Positions) -> None:
        self.datastore, self.positions = datastore, positions
        self.written = threading.Event()  # wakes the relay at once instead of at its next poll

    def apply(self, rows: list[dict[str, Any]], trackings: list[Tracking]) -> None:
        self.positions.commit([(INSERT, rows)], trackings)
        if rows:
            self.written.set()

    def relay(self, producer: KafkaProducer, stopping: threading.Event, batch: int = 2000) -> None:
        """Publish committed rows in order until stopped; a crash re-sends at most one batch."""
        while not stopping.is_set():
            try:
                sent = self.publish(producer, batch)
            except Exception:  # the broker or the database is away: retry, never drop
                log.warning("outbox relay retrying", exc_info=True)
                stopping.wait(1.0)
                continue
            if sent < batch:
                self.written.wait(0.5)
                self.written.clear()

    def publish(self, producer: KafkaProducer, batch: int) -> int:
        with self.datastore.get_connection() as conn:
            rows = conn.execute(PENDING, (batch,)).fetchall()
        if not rows:
            return 0
        futures = [producer.send(r["topic"], key=bytes(r["key"]) if r["key"] is not None else None,
                                 value=bytes(r["value"]),
                                 headers=[(n, v.encode("latin-1")) for n, v in r["headers"]])
                   for r in rows]
        producer.flush(30)
        for future in futures:
            future.get(30)
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SENT, ([r["position"] for r in rows],))
        return len(rows)
