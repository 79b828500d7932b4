"""CPU priority: the path from a 202 to the timeline runs before the workers off it."""

from __future__ import annotations

import threading
import time

from kafka import TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from kartoteka.settings import Settings
from services.projections import registry
from services.projections.batching import Polled, gather

PATH = ("raw", "resolver", "relay", "timeline")


def test_the_timeline_path_runs_at_worker_nice_and_the_off_path_workers_at_background_nice() -> None:
    settings = Settings(worker_nice=2, background_nice=9)
    for name in PATH:
        assert registry.spec_of(name).niceness(settings) == 2, name
    for name in ("duplicates", "detect", "alerts", "anchor", "retention"):
        assert registry.spec_of(name).niceness(settings) == 9, name


def test_by_default_the_path_keeps_the_supervisors_priority_and_the_rest_yields() -> None:
    settings = Settings()
    assert {registry.spec_of(n).niceness(settings) for n in PATH} == {settings.worker_nice} == {0}
    assert registry.spec_of("duplicates").niceness(settings) == settings.background_nice > 0


def _records(tp: TopicPartition, offsets: range) -> list[ConsumerRecord]:
    return [ConsumerRecord(tp.topic, tp.partition, None, o, 0, 0, b"k", b"v", [], None, 1, 1, 1)
            for o in offsets]


class _Trickle:
    """A consumer whose log grows by a few records per poll (a steady 200/s arrives so)."""

    def __init__(self, tp: TopicPartition, per_poll: int, total: int) -> None:
        self.tp, self.per_poll, self.total, self.next = tp, per_poll, total, 0
        self.polls = 0

    def poll(self, timeout_ms: int = 0, max_records: int | None = None) -> Polled:
        self.polls += 1
        take = min(self.per_poll, max_records or self.per_poll, self.total - self.next)
        if take <= 0:
            time.sleep(timeout_ms / 1000)
            return {}
        got = _records(self.tp, range(self.next, self.next + take))
        self.next += take
        return {self.tp: got}


def test_gathering_joins_polls_in_offset_order_up_to_a_full_batch() -> None:
    tp = TopicPartition("customers.v1", 0)
    consumer = _Trickle(tp, per_poll=3, total=100)
    batch = gather(consumer, consumer.poll(), 20, 5.0, threading.Event())
    assert [r.offset for r in batch[tp]] == list(range(20))
    assert consumer.next == 20  # nothing polled past the batch is lost: none was taken


def test_gathering_stops_at_its_linger_with_what_arrived() -> None:
    tp = TopicPartition("customers.v1", 1)
    consumer = _Trickle(tp, per_poll=2, total=5)
    started = time.monotonic()
    batch = gather(consumer, consumer.poll(), 1000, 0.2, threading.Event())
    assert [r.offset for r in batch[tp]] == [0, 1, 2, 3, 4]
    assert 0.15 < time.monotonic() - started < 2


def test_gathering_stops_at_once_when_the_worker_stops() -> None:
    tp = TopicPartition("customers.v1", 2)
    consumer = _Trickle(tp, per_poll=1, total=1)
    stopping = threading.Event()
    stopping.set()
    batch = gather(consumer, consumer.poll(), 1000, 30.0, stopping)
    assert [r.offset for r in batch[tp]] == [0] and consumer.polls == 1
