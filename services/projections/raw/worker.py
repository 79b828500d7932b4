"""The raw validator worker: interactions.raw.v1 -> interactions.v1 or the dead letter.

Its verdicts are records to send, so they go through its outbox: written in the transaction
that tracks its position on the raw topic, then published by the relay thread beside it. A
restart at any instant neither loses a record nor forwards one under another id (ids are
deterministic; a re-sent forward is a duplicate the resolver absorbs).
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from eventsourcing.persistence import Tracking

from events import topics
from kartoteka import kafka
from kartoteka.settings import Settings
from services.projections.raw.store import Outbox, outbox_row
from services.projections.raw.validate import HEADERS, Forward, Invalid, verdict
from services.projections.records import Decoded
from services.projections.runner import Runner
from services.projections.spec import Context, WorkerSpec

NAME = "raw"
log = logging.getLogger(__name__)


class RawValidator:
    """Every raw record gets its verdict in ``digest`` (a raw record is no envelope, so none is
    left to the runner's decode); ``apply`` writes each verdict to the outbox."""

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
                log.warning("raw record dead-lettered", extra={"source": where, "reason": outcome.reason[:500]})
                rows.append(outbox_row(self.dead_letter_topic, item.key, outcome.value, [
                    ("error", outcome.reason.encode()), ("dlq-worker", NAME.encode()),
                    ("dlq-source", where.encode())]))
        self.outbox.apply(rows, trackings)


class RawWorker:
    """The validator on the shared runner, and the relay of its outbox in a thread beside it."""

    def __init__(self, ctx: Context) -> None:
        self.settings = ctx.settings
        self.outbox = Outbox(ctx.datastore, ctx.positions)
        self.runner = Runner(ctx.settings, WORKER, RawValidator(ctx.settings, self.outbox), ctx.positions,
                             ctx.status_file)
        self.stopping = self.runner.stopping

    def run(self) -> None:
        """Both until stopped; either failing stops both."""
        producer = kafka.producer(self.settings, linger_ms=5)
        relay = threading.Thread(target=self.outbox.relay, args=(producer, self.stopping),
                                 name="raw-relay", daemon=True)
        relay.start()
        try:
            self.runner.run()
        finally:
            self.stopping.set()
            relay.join(30)
            producer.close(10)


WORKER = WorkerSpec(
    name=NAME,
    consumes=(topics.INTERACTIONS_RAW,),
    produces=(topics.INTERACTIONS, topics.INTERACTIONS_DLQ),  # through its outbox
    build=RawWorker,
    standalone=True,
)
