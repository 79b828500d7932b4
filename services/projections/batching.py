"""Larger, rarer batches for a projection whose cost is mostly per batch (its ``gather_ms``)."""

from __future__ import annotations

import threading
import time
from typing import Protocol

from kafka import TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

Polled = dict[TopicPartition, list[ConsumerRecord]]
# While a batch gathers, the consumer fetches once per step: polling on, it fetched (and woke)
# once per arrival of a thin stream, hundreds of times per batch.
STEP_S = 0.5


class Polls(Protocol):
    """The one method of a KafkaConsumer this needs."""

    def poll(self, timeout_ms: int = 0, max_records: int | None = None) -> Polled: ...


def gather(consumer: Polls, polled: Polled, most: int, linger_s: float, stopping: threading.Event) -> Polled:
    """``polled`` plus what the consumer returns within ``linger_s``, up to ``most`` records.

    Records of a partition stay in offset order (each poll continues where the last ended), so
    the batch is what one larger poll would have returned.
    """
    count = sum(len(part) for part in polled.values())
    deadline = time.monotonic() + linger_s
    while count < most and not stopping.is_set():
        # What the consumer has already fetched or can read at once, then a step's wait.
        while count < most and (more := consumer.poll(timeout_ms=0, max_records=most - count)):
            for tp, part in more.items():
                polled.setdefault(tp, []).extend(part)
                count += len(part)
        if count >= most or (left := deadline - time.monotonic()) <= 0:
            break
        stopping.wait(min(STEP_S, left))
    return polled
