"""Kafka client setup in one place: tuned producers and consumers, topics and their ids."""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
import zlib
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError
from kafka.partitioner import Partitioner

from events import topics
from kartoteka.settings import Settings

log = logging.getLogger(__name__)

# Measured on a 2-core machine against Tansu: kafka-python is CPU bound, so batching
# (linger + 256 KB batches) and the crc32c extension make the difference.
PRODUCER_DEFAULTS: dict[str, Any] = {
    "acks": "all",
    # Tansu has no idempotent producer: after a broker restart an idempotent producer fails
    # every send (UnknownProducerId). Exactly-once comes from deterministic ids instead.
    "enable_idempotence": False,
    "partitioner": None,  # set below: Crc32Partitioner()
    "linger_ms": 5,
    "batch_size": 256 * 1024,
    "max_request_size": 4 * 1024 * 1024,
    "retries": 5,
    "request_timeout_ms": 15_000,
    "max_block_ms": 10_000,
    # Nobody reads the client's own metrics (services export theirs): their sensors cost about
    # a fifth of a small produce's CPU (bench/README.md).
    "metrics_enabled": False,
}


class Crc32Partitioner(Partitioner):  # type: ignore[misc]
    """Same key, same partition, via C crc32 (kafka-python's murmur2 is pure Python: bench/README.md).

    Every Kartoteka producer uses it, so per-key order holds; a foreign producer writing keyed
    records to our topics must hash the same way.
    """

    def partition(self, topic: str, key: Any, serialized_key: bytes | None, value: Any,
                  serialized_value: Any, cluster: Any) -> int:
        partitions = sorted(cluster.partitions_for_topic(topic) or ())
        if not partitions:
            raise ValueError(f"topic {topic} has no known partitions")
        if serialized_key is None:
            return random.choice(partitions)
        return partitions[zlib.crc32(serialized_key) % len(partitions)]


PRODUCER_DEFAULTS["partitioner"] = Crc32Partitioner()


def producer(settings: Settings, **overrides: Any) -> KafkaProducer:
    """A producer that only reports success after every in-sync replica has the record."""
    return KafkaProducer(bootstrap_servers=settings.bootstrap, **{**PRODUCER_DEFAULTS, **overrides})


def close_producer(producer_: KafkaProducer, timeout_s: float) -> None:
    """Hand over what is buffered (up to ``timeout_s``), then close, even when the broker is gone.

    kafka-python's ``close`` flushes first and raises on a timeout before its forced close: the
    sender thread then lives on, and an atexit handler waits on the dead broker again at exit.
    """
    try:
        producer_.close(timeout_s)
    except KafkaError:
        producer_._sender.force_close()  # noqa: SLF001 (kafka-python 3.0.12, pinned)
        raise


def consumer(settings: Settings, **overrides: Any) -> KafkaConsumer:
    """An unsubscribed consumer; positions come from Postgres, so Kafka commits are off."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "max_poll_records": settings.batch_max_records,
        # Under a steady stream Tansu holds a fetch about its full max wait: a short one keeps
        # the card fresh, at some polling CPU per idle worker (bench/README.md).
        "fetch_max_wait_ms": 50,
        "fetch_min_bytes": 1,
        "max_partition_fetch_bytes": 4 * 1024 * 1024,
        "request_timeout_ms": 30_000,
        "session_timeout_ms": 10_000,
        "heartbeat_interval_ms": 1_000,
        "max_poll_interval_ms": 300_000,
    }
    options.update(overrides)
    return KafkaConsumer(**options)


def admin(settings: Settings) -> KafkaAdminClient:
    return KafkaAdminClient(bootstrap_servers=settings.bootstrap, request_timeout_ms=10_000)


def ensure_topics(settings: Settings, names: tuple[str, ...] = topics.ALL) -> None:
    """Create the contract's topics when missing (idempotent)."""
    client = admin(settings)
    try:
        existing = set(client.list_topics())
        wanted = [
            NewTopic(settings.topic(name), settings.partitions, 1)
            for name in names
            if settings.topic(name) not in existing
        ]
        if wanted:
            with contextlib.suppress(TopicAlreadyExistsError):  # a concurrent creator won
                client.create_topics(wanted)
        _wait_for_metadata(client, [settings.topic(n) for n in names])
    finally:
        client.close()


def _wait_for_metadata(client: KafkaAdminClient, names: list[str], timeout_s: float = 15) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        described = client.describe_topics(names)
        if all(d["error_code"] == 0 and d["partitions"] for d in described):
            return
        if time.monotonic() > deadline:
            raise KafkaError(f"topics not ready: {described}")
        time.sleep(0.2)


def topic_ids(settings: Settings, names: list[str], client: KafkaAdminClient | None = None) -> dict[str, str]:
    """The broker's id of each topic; it changes when a topic is recreated (e.g. Tansu restart)."""
    own = client is None
    client = client or admin(settings)
    try:
        # A missing topic answers with an error code and no id: report it as "".
        return {
            d["name"]: str(d["topic_id"]) if d["error_code"] == 0 and d["topic_id"] else ""
            for d in client.describe_topics(names)
        }
    finally:
        if own:
            client.close()


def partitions_of(
    consumer_: KafkaConsumer, topic: str, timeout_s: float = 15
) -> list[TopicPartition]:
    deadline = time.monotonic() + timeout_s
    while True:
        found = consumer_.partitions_for_topic(topic)
        if found:
            return [TopicPartition(topic, p) for p in sorted(found)]
        if time.monotonic() > deadline:
            raise KafkaError(f"topic {topic} has no partitions")
        time.sleep(0.2)


async def send_all(
    producer_: KafkaProducer,
    records: list[tuple[str, bytes | None, bytes, list[tuple[str, bytes]]]],
    timeout_s: float = 15,
    now: bool = False,
) -> None:
    """Produce records and wait until Kafka acknowledged every one (acks=all), without blocking the loop.

    The first failure fails the whole call. Acknowledgements are counted on the producer's
    thread and the loop is woken once per call: a future and a cross-thread wake-up per
    record cost more CPU than producing the record. ``now``: the caller sends nothing more
    and waits for the answer, so what is buffered goes at once instead of after ``linger_ms``.
    """
    import asyncio

    if not records:
        return
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    acks = _Acks(loop, done, len(records))
    send = producer_.send
    for topic, key, value, headers in records:
        future = send(topic, key=key, value=value, headers=headers)
        future.add_callback(acks.ok)
        future.add_errback(acks.fail)
    if not now:
        await asyncio.wait_for(done, timeout_s)
        return
    with _expedited(producer_):
        await asyncio.wait_for(done, timeout_s)


@contextlib.contextmanager
def _expedited(producer_: KafkaProducer) -> Any:
    """What ``KafkaProducer.flush`` does, without blocking on it: every buffered batch is ready to
    send while the block runs (kafka-python 3.0.12, pinned: ``begin_flush`` has no public twin)."""
    accumulator = producer_._accumulator  # noqa: SLF001
    accumulator.begin_flush()
    producer_._sender.wakeup()  # noqa: SLF001
    try:
        yield
    finally:
        accumulator._flushes_in_progress.decrement()  # noqa: SLF001 - await_flush_completion's own


class _Acks:
    """Counts a call's acknowledgements; settles its waiter once (all acked, or first error)."""

    __slots__ = ("_loop", "_waiter", "_left", "_settled", "_lock")

    def __init__(self, loop: Any, waiter: Any, expected: int) -> None:
        self._loop, self._waiter, self._left = loop, waiter, expected
        self._settled = False
        # Callbacks run on the sender thread, or on the caller's when a future is already done.
        self._lock = threading.Lock()

    def ok(self, _metadata: Any) -> None:
        with self._lock:
            self._left -= 1
            if self._left or self._settled:
                return
            self._settled = True
        self._wake(None)

    def fail(self, exc: BaseException) -> None:
        with self._lock:
            if self._settled:
                return
            self._settled = True
        self._wake(exc)

    def _wake(self, exc: BaseException | None) -> None:
        # RuntimeError: the loop closed while the broker was answering, so nobody waits.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(_settle, self._waiter, exc)


def _settle(waiter: Any, exc: BaseException | None) -> None:
    if waiter.done():  # timed out (cancelled) meanwhile
        return
    if exc is None:
        waiter.set_result(None)
    else:
        waiter.set_exception(exc)


async def producer_ready(producer_: KafkaProducer, topic: str, timeout_s: float = 2) -> bool:
    """True when the producer has (or can fetch) the topic's metadata from the broker."""
    import asyncio

    try:
        found = await asyncio.wait_for(
            asyncio.to_thread(producer_.partitions_for, topic), timeout_s
        )
        return bool(found)
    except Exception:
        return False
