"""The one relay: publishes every PostgreSQL log (identity log, outbox) from a tracked position.

Never "save, then send": senders only record (the resolver its events, the others their
outbox rows, each with the state they follow from); the relay reads what was recorded,
publishes it, waits for Kafka's acknowledgement, then records how far it got: at most every
``RECORD_S`` while rows keep coming, and as soon as they stop. A crash republishes what was
published since (at most half a second's worth), which consumers absorb because their writes
are idempotent.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventsourcing.persistence import Tracking
from kafka import KafkaAdminClient, KafkaProducer

from events import topics
from events.records import Outgoing
from kartoteka import kafka, metrics
from kartoteka.keystore import KeyRing, master_key
from kartoteka.settings import Settings
from services.projections.identity.identity_log import IdentityLog
from services.projections.relay.sources import IdentitySource, OutboxSource, Source
from services.projections.relay.wakeup import Wakeup
from services.projections.runner import RESET_CHECK_S, STATUS_BUSY_S, STATUS_IDLE_S
from services.projections.spec import Context, WorkerSpec
from services.projections.status import write_status
from services.projections.tracking import Positions

log = logging.getLogger(__name__)
# The relay sends a whole batch, then flushes and waits once. A short linger made the
# sender drain a few records at a time while the batch was still being encoded: every append
# then opened a new batch and woke the sender (a socket write), and every drain was a produce
# request of its own. Lingering past any batch leaves the flush to send full batches.
PRODUCER: dict[str, Any] = {"linger_ms": 60_000, "batch_size": 512 * 1024}
# A position recorded after every batch was a commit (and a quarter of the relay's time per
# batch) between a resolver's commit and the next batch reaching customers.v1.
RECORD_S = 0.5


@dataclass
class _Track:
    """Where one source stands: its position name (by the topic's id) and last row sent."""

    source: Source
    topic: str
    name: str = ""
    position: int = 0
    due: float = 0.0  # monotonic time of the next poll while idle
    recorded: int = 0  # the position last recorded in PostgreSQL
    recorded_at: float = 0.0  # monotonic time of that recording


class Relay:
    """Polls each source and publishes its rows in order; positions tracked per topic id."""

    def __init__(self, settings: Settings, sources: list[Source], positions: Positions,
                 status_file: Path | None = None, batch: int = 2000, name: str = "relay",
                 wakeup: Wakeup | None = None) -> None:
        self.settings, self.positions, self.name = settings, positions, name
        self.tracks = [_Track(s, settings.topic(s.topic)) for s in sources]
        self.status_file = status_file
        self.batch = batch
        self.stopping = threading.Event()
        self.published = 0
        self.lag = 0
        self.status_at = 0.0  # when ``lag`` was last computed
        self._checked = 0.0
        self.wakeup = wakeup
        if wakeup is not None:
            wakeup.stopping = self.stopping

    def run(self) -> None:
        kafka.ensure_topics(self.settings)
        producer = kafka.producer(self.settings, **PRODUCER)
        admin = kafka.admin(self.settings)
        names = self._position_names(admin)
        for track in self.tracks:
            self._resume(track, names[track.topic])
        checked = time.monotonic()
        try:
            while not self.stopping.is_set():
                if time.monotonic() - checked > RESET_CHECK_S:
                    checked = time.monotonic()
                    self._check_recreated(admin)
                full = [self._pass(producer, track) for track in self.tracks]
                self._status(busy=any(full))
                if not any(full) and not self._idle(0.05):
                    self._record_positions()  # nothing new came: the positions catch up now
        finally:
            if self.wakeup is not None:
                self.wakeup.close()
            self._record_positions(stopping=True)
            admin.close()
            kafka.close_producer(producer, 30)

    def _idle(self, seconds: float) -> bool:
        """Until the identity log commits (then it is polled at once: True), or ``seconds``."""
        if self.wakeup is None:
            self.stopping.wait(seconds)
            return False
        if self.wakeup.wait(seconds):
            for track in self.tracks:
                if isinstance(track.source, IdentitySource):
                    track.due = 0.0
            return True
        return False

    def _record_positions(self, stopping: bool = False) -> None:
        for track in self.tracks:
            try:
                self._record(track)
            except Exception as exc:
                if not stopping:
                    raise
                # On the way out, maybe because PostgreSQL failed: republished next time.
                log.warning("relay position not recorded", extra={"position": track.name, "error": str(exc)})
                return

    def _record(self, track: _Track, older_than_s: float = 0.0) -> None:
        """Record the track's position if it moved and the last recording is ``older_than_s``."""
        if track.position != track.recorded and time.monotonic() - track.recorded_at >= older_than_s:
            self.positions.record_now(Tracking(track.name, track.position))
            track.recorded, track.recorded_at = track.position, time.monotonic()

    def _check_recreated(self, admin: KafkaAdminClient) -> None:
        try:
            names = self._position_names(admin)
        except Exception:  # noqa: BLE001 - broker unreachable right now; the next check decides
            return
        for track in self.tracks:
            if names[track.topic] != track.name:
                log.warning("topic recreated; republishing from the start",
                            extra={"old": track.name, "new": names[track.topic]})
                self._resume(track, names[track.topic])
                track.due = 0.0

    def _resume(self, track: _Track, name: str) -> None:
        track.name, track.position = name, self.positions.get([name])[name] or 0
        track.recorded = track.position

    def _pass(self, producer: KafkaProducer, track: _Track) -> bool:
        """Publish one batch of the source; True when it was full (more may wait)."""
        if time.monotonic() < track.due:
            return False
        rows = track.source.after(track.position, self.batch)
        if not rows:
            track.due = time.monotonic() + track.source.every_s
            return False
        self._publish(producer, track.topic, [r for _, r in rows if r is not None])
        track.position = rows[-1][0]
        self._record(track, RECORD_S)
        self.published += len(rows)
        metrics.PROCESSED.labels(self.name).inc(len(rows))
        return len(rows) == self.batch

    def _position_names(self, admin: KafkaAdminClient) -> dict[str, str]:
        """Named by each topic's id: a recreated topic (in-memory broker restart) starts from zero."""
        topics_ = [t.topic for t in self.tracks]
        ids = kafka.topic_ids(self.settings, topics_, admin)
        if not all(ids.values()):  # a topic is gone: recreate it first
            kafka.ensure_topics(self.settings)
            ids = kafka.topic_ids(self.settings, topics_, admin)
        return {topic: f"{self.name}:{topic}:{ids[topic]}" for topic in topics_}

    def _publish(self, producer: KafkaProducer, topic: str, records: list[Outgoing]) -> None:
        send = producer.send
        futures = [send(topic, key=r.key, value=r.value, headers=list(r.headers)) for r in records]
        producer.flush(30)
        for future in futures:
            future.get(timeout=30)  # raises if any record was not acknowledged

    def _status(self, busy: bool = False) -> None:
        # Each status asks every source for its last row: a third of a busy relay's CPU when
        # it was every 0.3 s. While busy the lag is not 0 anyway.
        if self.status_file is None or time.monotonic() - self._checked < (STATUS_BUSY_S if busy else STATUS_IDLE_S):
            return
        self._checked = time.monotonic()
        self.lag = sum(max(0, t.source.last() - t.position) for t in self.tracks)
        self.status_at = time.time()
        metrics.LAG.labels(self.name).set(self.lag)
        write_status(self.status_file, {"projection": self.name, "lag": self.lag,
                                        "processed": self.published, "at": self.status_at})


def _build(ctx: Context) -> Relay:
    from services.projections.registry import outbox_topics

    identity = IdentityLog(ctx.datastore)
    sources: list[Source] = [IdentitySource(identity, KeyRing(master_key(ctx.settings)))]
    sources += [OutboxSource(ctx.datastore, topic) for topic in outbox_topics()]
    wakeup = Wakeup(ctx.settings.dsn, identity.recorder.channel_name)  # type: ignore[attr-defined]
    return Relay(ctx.settings, sources, ctx.positions, ctx.status_file, wakeup=wakeup)


# Besides customers.v1, every topic a registered worker produces: those go through the outbox.
WORKER = WorkerSpec(name="relay", consumes=(), produces=(topics.CUSTOMERS,), build=_build,
                    standalone=True, singleton=True)
