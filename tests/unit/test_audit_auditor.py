"""The access auditor: asynchronous produce, bounded, and closed when Kafka is not answering."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from starlette.requests import Request

from kartoteka.auth import Principal, Role
from kartoteka.http import ApiError
from services.api.auditing import AccessAuditor

WHO = Principal("emp-42", Role.agent)


class Delivery:
    """What ``KafkaProducer.send`` returns: callbacks fired when the broker answers."""

    def __init__(self) -> None:
        self.callbacks: list[Any] = []
        self.errbacks: list[Any] = []

    def add_callback(self, fn: Any, *args: Any) -> None:
        self.callbacks.append((fn, args))

    def add_errback(self, fn: Any, *args: Any) -> None:
        self.errbacks.append((fn, args))

    def ack(self) -> None:
        for fn, args in self.callbacks:
            fn(*args, None)

    def fail(self, exc: Exception) -> None:
        for fn, args in self.errbacks:
            fn(*args, exc)


class Producer:
    """A producer whose broker answers only when the test says so (or at once)."""

    def __init__(self, auto_ack: bool = True) -> None:
        self.auto_ack, self.sent, self.deliveries = auto_ack, [], []
        self.flushes = 0

    def flush(self, timeout: float | None = None) -> None:
        self.flushes += 1

    def partitions_for(self, topic: str) -> set[int]:
        return {0}

    def send(self, topic: str, key: bytes, value: bytes, headers: Any) -> Delivery:
        self.sent.append(json.loads(value))
        delivery = Delivery()
        self.deliveries.append(delivery)
        if self.auto_ack:
            asyncio.get_running_loop().call_soon(delivery.ack)
        return delivery


def request() -> Request:
    scope = {"type": "http", "method": "GET", "path": "/v1/customers", "headers": [],
             "query_string": b"", "client": ("10.0.0.7", 5000), "server": ("api", 80)}
    req = Request(scope)
    req.state.request_id = "req-1"
    return req


def auditor(producer: Producer, **options: Any) -> AccessAuditor:
    defaults: dict[str, Any] = {"stall_s": 0.2, "fresh_s": 0.5, "ack_timeout_s": 0.1}
    return AccessAuditor(producer, "access.v1", **{**defaults, **options})  # type: ignore[arg-type]


def record(audit: AccessAuditor, req: Request | None = None) -> None:
    asyncio.run(audit.record(req or request(), WHO, "customer.card", ["c-1", "c-1", "c-2"]))


def test_an_access_event_carries_who_what_and_which_customers_once_each() -> None:
    producer, req = Producer(), request()
    record(auditor(producer), req)
    [sent] = producer.sent
    assert sent["type"] == "kartoteka.access.recorded.v1"
    data = sent["data"]
    assert (data["employee_id"], data["role"], data["action"]) == ("emp-42", "agent", "customer.card")
    assert data["customer_ids"] == ["c-1", "c-2"] and data["request_id"] == "req-1"
    assert req.state.audited == "customer.card"


def test_an_idle_api_waits_for_the_broker_and_refuses_when_it_does_not_answer() -> None:
    with pytest.raises(ApiError) as refused:
        record(auditor(Producer(auto_ack=False)))
    assert (refused.value.status, refused.value.code) == (503, "audit_unavailable")


def test_a_busy_api_does_not_wait_for_each_acknowledgement() -> None:
    async def two_reads() -> int:
        producer = Producer(auto_ack=True)
        audit = auditor(producer, fresh_s=60)
        await audit.record(request(), WHO, "customer.card", ["c-1"])  # confirmed: first one
        producer.auto_ack = False
        await audit.record(request(), WHO, "customer.card", ["c-2"])  # a recent ack: no wait
        return audit.pending()

    assert asyncio.run(two_reads()) == 1


def test_an_acknowledgement_overdue_for_longer_than_the_stall_limit_refuses_at_once() -> None:
    async def stalled() -> None:
        producer = Producer(auto_ack=True)
        audit = auditor(producer, fresh_s=60, stall_s=0.05)
        await audit.record(request(), WHO, "customer.card", ["c-1"])
        producer.auto_ack = False
        await audit.record(request(), WHO, "customer.card", ["c-2"])
        await asyncio.sleep(0.1)
        await audit.record(request(), WHO, "customer.card", ["c-3"])

    with pytest.raises(ApiError, match="unacknowledged for"):
        asyncio.run(stalled())


def test_a_full_buffer_refuses_rather_than_queue_without_bound() -> None:
    async def flood() -> None:
        producer = Producer(auto_ack=True)
        audit = auditor(producer, fresh_s=60, stall_s=60, max_pending=3)
        await audit.record(request(), WHO, "customer.card", [])
        producer.auto_ack = False
        for _ in range(4):
            await audit.record(request(), WHO, "customer.card", [])

    with pytest.raises(ApiError, match="3 access events unacknowledged"):
        asyncio.run(flood())


def test_after_a_lost_event_the_next_read_is_confirmed_and_recovers(caplog) -> None:
    async def lose_then_recover() -> int:
        producer = Producer(auto_ack=True)
        audit = auditor(producer, fresh_s=60)
        await audit.record(request(), WHO, "customer.card", [])
        producer.auto_ack = False
        await audit.record(request(), WHO, "customer.card", [])
        producer.deliveries[-1].fail(RuntimeError("broker gone"))
        producer.auto_ack = True
        await audit.record(request(), WHO, "customer.card", [])  # waits for its own ack
        return audit.pending()

    assert asyncio.run(lose_then_recover()) == 0
    lost = [r for r in caplog.records if r.getMessage() == "access event lost"]
    assert lost and "customer.card" in lost[0].event  # type: ignore[attr-defined]


def test_configured_to_fail_open_an_unauditable_read_is_served_and_logged(caplog) -> None:
    record(auditor(Producer(auto_ack=False), fail_closed=False))
    assert any(r.getMessage() == "access may go unaudited" for r in caplog.records) is False
    audit = auditor(Producer(auto_ack=False), fail_closed=False, stall_s=0.0, fresh_s=60)

    async def stalled() -> None:
        await audit.record(request(), WHO, "customer.card", [])
        await asyncio.sleep(0.01)
        await audit.record(request(), WHO, "customer.card", [])

    asyncio.run(stalled())
    assert any(r.getMessage() == "access may go unaudited" for r in caplog.records)


def test_the_access_event_is_byte_for_byte_the_envelope_of_the_contract() -> None:
    from events.catalog import AccessRecorded
    from events.envelope import decode, encode, wrap

    class Raw(Producer):
        def send(self, topic: str, key: bytes, value: bytes, headers: Any) -> Delivery:
            self.raw = (key, value, headers)
            return super().send(topic, key, value, headers)

    producer = Raw()
    asyncio.run(auditor(producer).record(request(), Principal("emp-Ж\"q", Role.agent),
                                         "customer.search", ["c-1"], "Ирина\x01"))
    key, value, headers = producer.raw
    envelope, payload = decode(value)
    assert isinstance(payload, AccessRecorded) and payload.query == "Ирина\x01"
    expected = encode(wrap(AccessRecorded.model_validate(payload.model_dump()), id=envelope.id,
                           source=envelope.source, time=envelope.time, subject=envelope.subject))
    assert value == expected
    assert key == "emp-Ж\"q".encode() and headers == [("event-type", envelope.type.encode())]


def test_a_read_that_waits_for_its_ack_flushes_at_once_and_a_busy_one_leaves_it_to_the_linger() -> None:
    producer = Producer()
    audit = auditor(producer, fresh_s=60)

    async def two_reads() -> None:
        await audit.record(request(), WHO, "customer.card", ["c-1"])  # idle: nothing acked yet
        await asyncio.sleep(0.05)  # the executor's flush has run
        flushed_after_first = producer.flushes
        await audit.record(request(), WHO, "customer.card", ["c-2"])  # acked 0 s ago: busy
        await asyncio.sleep(0.05)
        assert (flushed_after_first, producer.flushes) == (1, 1)

    asyncio.run(two_reads())
    assert len(producer.sent) == 2
