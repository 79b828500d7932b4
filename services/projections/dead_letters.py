"""Dead-lettering for the shared runner: a record it cannot decode or apply, with the reason.

The headers name the reason, the worker and the source position, so an operator reading the
dead-letter topic knows which worker refused what, and why.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

from kafka import KafkaProducer
from kafka.consumer.fetcher import ConsumerRecord

from kartoteka import kafka, metrics
from kartoteka.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Poison:
    record: ConsumerRecord
    reason: str


def headers(poison: Poison, worker: str) -> list[tuple[str, bytes]]:
    record = poison.record
    return [
        ("dlq-reason", poison.reason[:2000].encode()),
        ("dlq-worker", worker.encode()),
        ("dlq-source", f"{record.topic}/{record.partition}/{record.offset}".encode()),
        *list(record.headers or []),
    ]


class DeadLetters:
    """Sends refused records to one worker's dead-letter topic and waits for the broker."""

    def __init__(self, settings: Settings, worker: str, topic: str) -> None:
        self.worker, self.topic = worker, settings.topic(topic)
        self._producer: KafkaProducer = kafka.producer(settings, linger_ms=0)

    def send(self, poison: list[Poison]) -> None:
        if not poison:
            return
        for item in poison:
            record = item.record
            self._producer.send(self.topic, key=record.key, headers=headers(item, self.worker),
                                value=record.value if record.value is not None else b"")
            metrics.DEAD_LETTERS.labels(self.worker, metrics.reason_label(item.reason)).inc()
            log.warning("record dead-lettered", extra={
                "source": f"{record.topic}/{record.partition}/{record.offset}",
                "worker": self.worker, "reason": item.reason[:500]})
        self._producer.flush(30)

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing on the way out
            self._producer.close()
