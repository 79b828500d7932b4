"""The raw validator worker: interactions.raw.v1 -> interactions.v1 or the dead letter.

Its verdicts are records to send, so they go through its outbox: written in the transaction
that tracks its position on the raw topic, then published by the relay thread. A restart at
any instant neither loses a record nor forwards one twice under a new id (ids are
deterministic; a re-sent forward is a duplicate the resolver absorbs).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

from eventsourcing.persistence import Tracking

from events import topics
from kartoteka import kafka
from kartoteka.settings import Settings
from services.projections.raw.store import Outbox, outbox_row
from services.projections.raw.validate import HEADERS, Forward, Invalid, verdict
from services.projections.runner import Decoded, Runner
from services.projections.tracking import Positions

NAME = "raw"


class RawValidator:
    """Every raw record gets a verdict in ``digest`` (a raw record is no envelope, so none is
    left to the runner's decode); ``apply`` writes each verdict to the outbox."""

    name = NAME
    topic = topics.INTERACTIONS_RAW

    def __init__(self, settings: Settings, outbox: Outbox) -> None:
        self.outbox = outbox
        self.forward_topic = settings.topic(topics.INTERACTIONS)
        self.dead_letter_topic = settings.topic(topics.INTERACTIONS_DLQ)

    def digest(self, raw: bytes | None) -> Forward | Invalid:
        return verdict(raw, datetime.now(UTC))

    def apply(self, items: list[Decoded], trackings: list[Tracking]) -> None:
        rows, forwarded = [], set()
        for item in items:
            outcome = item.digest
            if isinstance(outcome, Forward) and outcome.id not in forwarded:
                forwarded.add(outcome.id)  # a repeat in one batch is sent once; later ones the resolver absorbs
                rows.append(outbox_row(self.forward_topic, outcome.key, outcome.value, HEADERS))
            elif isinstance(outcome, Invalid):
                where = f"{item.topic}/{item.partition}/{item.offset}"
                rows.append(outbox_row(self.dead_letter_topic, item.key, outcome.value, [
                    ("error", outcome.reason.encode()), ("dlq-worker", NAME.encode()),
                    ("dlq-source", where.encode())]))
        self.outbox.apply(rows, trackings)


def run(settings: Settings, positions: Positions, status_file: Path | None,
        stopping: threading.Event | None = None) -> None:
    """The validator and its relay until stopped; either failing stops both."""
    outbox = Outbox(positions.datastore, positions)
    runner = Runner(settings, RawValidator(settings, outbox), positions, status_file)
    if stopping is not None:
        runner.stopping = stopping
    producer = kafka.producer(settings, linger_ms=5)
    relay = threading.Thread(target=outbox.relay, args=(producer, runner.stopping), name="raw-relay",
                             daemon=True)
    relay.start()
    try:
        runner.run()
    finally:
        runner.stopping.set()
        relay.join(30)
        producer.close(10)
