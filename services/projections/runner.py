"""The one consumer runner every projection shares.

It assigns its partitions of its topics (all, a fixed share, or those its claims hold:
``claims.ClaimingRunner``), seeks to the positions tracked in Postgres,
decodes each polled batch, hands the good records to the projection (which writes rows
and positions in one transaction) and dead-letters the bad ones with the reason.

A writer thread applies batches one at a time, in order, while the consumer decodes the next.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import psycopg
from eventsourcing.persistence import InterfaceError as EsInterfaceError
from eventsourcing.persistence import OperationalError as EsOperationalError
from eventsourcing.persistence import Tracking
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import OffsetOutOfRangeError

from kartoteka import kafka, metrics
from kartoteka.keystore import KeyRing, master_key
from kartoteka.settings import Settings
from services.projections.batching import gather
from services.projections.dead_letters import DeadLetters, Poison
from services.projections.records import Decoded, Projection, decode_batch, last_offsets
from services.projections.sealed_records import Opener
from services.projections.spec import WorkerSpec
from services.projections.status import consumer_lag, write_status
from services.projections.tracking import Positions, position_name

log = logging.getLogger(__name__)
RESET_CHECK_S = 2.0
# The status file is advisory (readiness, lag): rewriting it after every batch cost a busy
# worker more than the write is worth; an idle one keeps it fresh for whoever waits on lag 0.
STATUS_BUSY_S = 2.0
STATUS_IDLE_S = 0.5
TRANSIENT = (psycopg.OperationalError, psycopg.InterfaceError, EsOperationalError, EsInterfaceError)


class Runner:
    """Runs one projection until stopped; restartable at any instant."""

    def __init__(
        self,
        settings: Settings,
        spec: WorkerSpec,
        projection: Projection,
        positions: Positions,
        status_file: Path | None = None,
        share: tuple[int, int] = (0, 1),
    ) -> None:
        self.settings, self.spec, self.name = settings, spec, spec.name
        # (index, count): this runner owns the partitions p with p % count == index, so that
        # count processes share a projection's topics (positions are per partition anyway).
        self.share = share
        self.projection = projection
        self.positions = positions
        self.topics = [settings.topic(t) for t in spec.consumes]
        # A projection may take larger batches than the default (the card + timeline does:
        # each batch costs a few statements whatever its size).
        self.batch_max_records: int = (
            getattr(projection, "batch_max_records", None) or settings.batch_max_records
        )
        self.gather_ms: int = getattr(projection, "gather_ms", 0)
        self.status_file = status_file
        self.stopping = threading.Event()
        self.lag = 0
        self.processed = 0
        self.status_at = 0.0  # when ``lag`` was last computed
        self._consumer: KafkaConsumer  # connected in run(), never at construction
        self._dlq: DeadLetters
        self._names: dict[TopicPartition, str] = {}
        self._admin: KafkaAdminClient | None = None
        self._done: dict[TopicPartition, int] = {}
        self._topic_ids: dict[str, str] = {}
        self._writer: ThreadPoolExecutor | None = None
        self._inflight: Future[None] | None = None
        # The projection's key ring when it seals too (the resolver), so keys are fetched once.
        ring = getattr(projection, "keyring", None) or KeyRing(master_key(settings))
        self.opener = Opener(ring, positions.datastore)

    def run(self) -> None:
        self._start()
        writer = self._writer = ThreadPoolExecutor(1, thread_name_prefix=f"{self.name}-writer")
        last_check = time.monotonic()
        last_status = 0.0
        try:
            while not self.stopping.is_set():
                try:
                    if self._names:
                        polled = self._consumer.poll(timeout_ms=200, max_records=self.batch_max_records)
                        if polled and self.gather_ms:
                            polled = gather(self._consumer, polled, self.batch_max_records,
                                            self.gather_ms / 1000, self.stopping)
                    else:  # a share without partitions (more processes than partitions)
                        polled = {}
                        self.stopping.wait(0.2)
                except OffsetOutOfRangeError as exc:
                    self._settle()
                    if not self._topic_recreated():
                        # Same topic, shorter log: resuming would skip or repeat; stop loudly.
                        raise RuntimeError(f"log truncated under the same topic id: {exc}") from exc
                    self._resync("offset out of range")
                    continue
                busy = any(polled.values())
                if busy:
                    self._process(polled)
                if time.monotonic() - last_check > RESET_CHECK_S:
                    last_check = time.monotonic()
                    if self._topic_recreated():
                        self._resync("topic recreated")
                    self._rebalance()
                since = time.monotonic() - last_status
                if since > STATUS_BUSY_S or (since > STATUS_IDLE_S and not busy):
                    self._write_status()
                    last_status = time.monotonic()
        finally:
            try:
                self._settle()  # the last batch commits (or fails) before anything closes
            finally:
                writer.shutdown(wait=True)
                self._writer = None
                self._write_status()
                self._close()
                if self._admin is not None:
                    self._admin.close()

    def _settle(self) -> None:
        """Wait for the batch being applied; its failure is the runner's failure."""
        inflight, self._inflight = self._inflight, None
        if inflight is not None:
            inflight.result()

    def _topic_recreated(self) -> bool:
        """The broker lost its log (in-memory Tansu restarted): the topic has a new id."""
        try:
            if self._admin is None:
                self._admin = kafka.admin(self.settings)
            current = kafka.topic_ids(self.settings, self.topics, self._admin)
        except Exception:  # broker unreachable right now; the next check decides
            return False
        return current != self._topic_ids

    def _resync(self, why: str) -> None:
        """Start over on the current log, under position names of its topic id.

        Never reuse a position against a reset log: its offsets would mark new records as done.
        """
        log.warning("log reset detected; reassigning", extra={"topics": self.topics, "why": why})
        self._settle()  # an applied batch keeps the position name of the log it came from
        self._close()
        self._done.clear()
        self._start()

    def _rebalance(self) -> None:
        """Take or give back partitions (``claims.ClaimingRunner``); a share's are fixed."""

    def _owns(self, partition: int) -> bool:
        return partition % self.share[1] == self.share[0]

    def _start(self) -> None:
        # Every worker may be first after a broker restart: the topics must exist.
        kafka.ensure_topics(self.settings)
        # "none": a reset log must raise, not silently rewind under the old positions.
        waits = {"fetch_max_wait_ms": w} if (w := self.spec.fetch_max_wait_ms) else {}
        self._consumer = kafka.consumer(
            self.settings, auto_offset_reset="none", max_poll_records=self.batch_max_records, **waits
        )
        self._dlq = DeadLetters(self.settings, self.name, self.spec.dead_letter)
        partitions = [tp for topic in self.topics for tp in kafka.partitions_of(self._consumer, topic)
                      if self._owns(tp.partition)]
        self._topic_ids = kafka.topic_ids(self.settings, self.topics)
        self._names = {
            tp: position_name(self.name, tp.topic, self._topic_ids[tp.topic], tp.partition)
            for tp in partitions
        }
        tracked = self.positions.get(self._names.values())
        self._consumer.assign(partitions)
        # A reset log is recognised by its new topic id (the position names change), not by
        # end offsets: Tansu reports ListOffsets(latest) as the last batch's base offset + 1.
        for tp in partitions:
            done = tracked[self._names[tp]]
            if done is None:
                self._consumer.seek_to_beginning(tp)
                self._done[tp] = -1
            else:
                self._consumer.seek(tp, done + 1)
                self._done[tp] = done
        log.info(
            "projection assigned",
            extra={
                "projection": self.name,
                "topics": self._topic_ids,
                "positions": {f"{tp.topic}/{tp.partition}": d for tp, d in self._done.items()},
            },
        )

    def _process(self, polled: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        """Decode a batch, then hand it to the writer once the previous batch has committed.

        Records polled while a batch is in flight lie past it (the consumer only moves
        forward between resyncs, and a resync settles first), so ``_done`` filters them right.
        """
        fresh: list[ConsumerRecord] = []
        for tp, part in polled.items():
            if not part:
                continue
            done = self._done.get(tp, -1)
            fresh.extend(part if part[0].offset > done else [r for r in part if r.offset > done])
        if not fresh:
            return
        good, poison = decode_batch(fresh, getattr(self.projection, "digest", None),
                                    self.opener.open([r.value for r in fresh]))
        self._settle()
        if self._writer is None:  # not running (a caller driving batches by hand): apply here
            self._commit(fresh, good, poison)
            return
        self._inflight = self._writer.submit(self._commit, fresh, good, poison)

    def _commit(
        self, fresh: list[ConsumerRecord], good: list[Decoded], poison: list[Poison]
    ) -> None:
        if not fresh:
            return
        self._dead_letter(poison)
        try:
            self._apply_with_retry(good, self._trackings(fresh))
        except Exception as exc:  # noqa: BLE001 - a record the projection cannot apply
            if len(fresh) > 1:
                self._isolate(fresh, good)
                return
            log.exception("record refused by projection")
            self._dead_letter([Poison(fresh[0], f"{type(exc).__name__}: {exc}")])
            self._apply_with_retry([], self._trackings(fresh))
        for tp, offset in last_offsets(fresh).items():
            self._done[tp] = max(self._done.get(tp, -1), offset)
        self.processed += len(good)
        metrics.committed(self.name, len(good), fresh)

    def _apply_with_retry(self, good: list[Decoded], trackings: list[Tracking]) -> None:
        """Retry while Postgres is unreachable: a database outage must not dead-letter anything."""
        attempt = 0
        while True:
            try:
                self.projection.apply(good, trackings)
                return
            except TRANSIENT as exc:
                attempt += 1
                log.warning(
                    "transient failure, retrying", extra={"error": str(exc), "attempt": attempt}
                )
                if self.stopping.wait(min(0.2 * 2**attempt, 10)):
                    raise

    def _isolate(self, fresh: list[ConsumerRecord], good: list[Decoded]) -> None:
        """Apply a refused batch in halves, in order, down to the one record that is refused.

        A poison record cannot block the ones around it, and costs a few transactions rather
        than one per record of the batch. Undecodable records were already dead-lettered;
        here they only advance the position.
        """
        by_position = {(d.topic, d.partition, d.offset): d for d in good}
        middle = len(fresh) // 2
        for part in (fresh[:middle], fresh[middle:]):
            items = [item for r in part
                     if (item := by_position.get((r.topic, r.partition, r.offset))) is not None]
            self._commit(part, items, [])

    def _trackings(self, records: list[ConsumerRecord]) -> list[Tracking]:
        return [Tracking(self._names[tp], offset) for tp, offset in sorted(last_offsets(records).items())]

    def _dead_letter(self, poison: list[Poison]) -> None:
        self._dlq.send(poison)

    def _write_status(self) -> None:
        if getattr(self, "_consumer", None) is None or self.status_file is None:
            return
        try:
            self.lag = consumer_lag(self._consumer, self._done)
        except Exception:  # status is advisory; the broker may be going away
            return
        self.status_at = time.time()
        metrics.LAG.labels(self.name).set(self.lag)
        write_status(self.status_file, {"projection": self.name, "lag": self.lag,
                                        "processed": self.processed, "at": self.status_at})

    def _close(self) -> None:
        if getattr(self, "_dlq", None) is not None:
            self._dlq.close()
        if getattr(self, "_consumer", None) is not None:
            with contextlib.suppress(Exception):  # closing on the way out
                self._consumer.close()
