"""``send_all`` waits for every acknowledgement and fails on the first error, whichever thread
settles the records and in whatever order (a fake producer; the real broker is exercised by
the integration tests)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from kafka.errors import KafkaTimeoutError, NotLeaderForPartitionError
from kafka.future import Future

from kartoteka.kafka import send_all


class FakeProducer:
    """Hands out kafka-python futures; the test settles them (now, or later on another thread)."""

    def __init__(self, settle_at_once: Any = None) -> None:
        self.sent: list[tuple[str, bytes | None, bytes, Any]] = []
        self.futures: list[Future] = []
        self.settle_at_once = settle_at_once

    def send(self, topic: str, key: bytes | None = None, value: bytes = b"",
             headers: Any = None) -> Future:
        future = Future()
        if self.settle_at_once is not None:
            self.settle_at_once(future)
        self.sent.append((topic, key, value, headers))
        self.futures.append(future)
        return future


def records(n: int) -> list[tuple[str, bytes | None, bytes, list[tuple[str, bytes]]]]:
    return [("t", f"k{i}".encode(), f"v{i}".encode(), [("event-type", b"x")]) for i in range(n)]


def settle_from_a_thread(producer: FakeProducer, how: Any, delay_s: float = 0.05) -> threading.Thread:
    def run() -> None:
        threading.Event().wait(delay_s)
        for i, future in reversed(list(enumerate(producer.futures))):
            how(i, future)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_it_returns_once_every_record_is_acknowledged_from_the_producer_thread() -> None:
    producer = FakeProducer()

    async def main() -> None:
        task = asyncio.ensure_future(send_all(producer, records(50)))  # type: ignore[arg-type]
        await asyncio.sleep(0)
        thread = settle_from_a_thread(producer, lambda i, f: f.success(i))
        await task
        thread.join()
        assert all(f.is_done for f in producer.futures)

    asyncio.run(main())
    assert [s[1] for s in producer.sent] == [f"k{i}".encode() for i in range(50)]
    assert producer.sent[0][3] == [("event-type", b"x")]


def test_it_does_not_return_while_one_record_is_unacknowledged() -> None:
    producer = FakeProducer()

    async def main() -> None:
        task = asyncio.ensure_future(send_all(producer, records(3)))  # type: ignore[arg-type]
        await asyncio.sleep(0)
        producer.futures[0].success(0)
        producer.futures[2].success(2)
        for _ in range(20):
            await asyncio.sleep(0)
        assert not task.done()
        producer.futures[1].success(1)
        await task

    asyncio.run(main())


def test_records_already_acknowledged_when_sent_count_too() -> None:
    producer = FakeProducer(settle_at_once=lambda f: f.success(None))
    asyncio.run(send_all(producer, records(5)))  # type: ignore[arg-type]


def test_the_first_error_fails_the_call_even_when_other_records_succeed() -> None:
    producer = FakeProducer()

    def settle(i: int, future: Future) -> None:
        if i == 7:
            future.failure(NotLeaderForPartitionError("partition 3"))
        else:
            future.success(i)

    async def main() -> None:
        task = asyncio.ensure_future(send_all(producer, records(20)))  # type: ignore[arg-type]
        await asyncio.sleep(0)
        thread = settle_from_a_thread(producer, settle)
        with pytest.raises(NotLeaderForPartitionError):
            await task
        thread.join()

    asyncio.run(main())


def test_a_record_that_failed_when_sent_fails_the_call() -> None:
    producer = FakeProducer(settle_at_once=lambda f: f.failure(KafkaTimeoutError("no metadata")))
    with pytest.raises(KafkaTimeoutError):
        asyncio.run(send_all(producer, records(2)))  # type: ignore[arg-type]


def test_it_times_out_when_the_broker_never_answers() -> None:
    with pytest.raises(TimeoutError):
        asyncio.run(send_all(FakeProducer(), records(2), timeout_s=0.05))  # type: ignore[arg-type]


def test_late_acknowledgements_after_a_timeout_are_harmless() -> None:
    producer = FakeProducer()

    async def main() -> None:
        with pytest.raises(TimeoutError):
            await send_all(producer, records(2), timeout_s=0.01)  # type: ignore[arg-type]
        for i, future in enumerate(producer.futures):
            future.success(i)
        await asyncio.sleep(0.01)

    asyncio.run(main())


def test_nothing_to_send_returns_at_once() -> None:
    producer = FakeProducer()
    asyncio.run(send_all(producer, []))  # type: ignore[arg-type]
    assert producer.sent == []
