"""The coalescer over in-memory fakes: concurrent requests share one settle, each gets its own
results back, and a failed settle fails every request it carried (never a success)."""

from __future__ import annotations

import asyncio

import pytest
from kafka.errors import KafkaTimeoutError

from services.ingest.accept import Rejected, accept
from services.ingest.coalescer import Coalescer, Outcome
from services.ingest.service import ItemResult, settle
from tests.support.ids import SECRET
from tests.unit.test_ingest_service import FakePublisher, FakeReceipts, cid, item


def outcomes(*external_ids: str) -> list[Outcome]:
    return [accept(item(e), SECRET) for e in external_ids]


async def _gather(coalescer: Coalescer, requests: list[list[Outcome]]) -> list[list[ItemResult] | BaseException]:
    return await asyncio.gather(*(coalescer.submit(r) for r in requests), return_exceptions=True)


def test_concurrent_requests_share_one_produce_and_each_gets_its_own_results() -> None:
    publisher, receipts = FakePublisher(), FakeReceipts()
    coalescer = Coalescer(lambda o: settle(o, publisher, receipts))
    answers = asyncio.run(_gather(coalescer, [outcomes("a"), outcomes("b", "c"), outcomes("d")]))
    assert answers == [
        [ItemResult(cid("a"), "accepted")],
        [ItemResult(cid("b"), "accepted"), ItemResult(cid("c"), "accepted")],
        [ItemResult(cid("d"), "accepted")],
    ]
    assert len(publisher.calls) == 1 and coalescer.flushes == 1
    assert [a.id for a in publisher.calls[0][0]] == [cid(e) for e in "abcd"]


def test_a_repeat_in_another_concurrent_request_is_answered_as_a_duplicate_and_sent_once() -> None:
    publisher, receipts = FakePublisher(), FakeReceipts()
    coalescer = Coalescer(lambda o: settle(o, publisher, receipts))
    answers = asyncio.run(_gather(coalescer, [outcomes("a"), outcomes("a"), [Rejected("bad", None)]]))
    assert answers == [[ItemResult(cid("a"), "accepted")], [ItemResult(cid("a"), "duplicate")],
                       [ItemResult(None, "rejected", "bad")]]
    assert [a.id for call in publisher.calls for a in call[0]] == [cid("a")]


def test_a_failed_produce_fails_every_request_of_that_flush_and_the_next_flush_succeeds() -> None:
    publisher, receipts = FakePublisher(fail=KafkaTimeoutError("no broker")), FakeReceipts()
    coalescer = Coalescer(lambda o: settle(o, publisher, receipts))

    async def scenario() -> tuple[list[list[ItemResult] | BaseException], list[ItemResult]]:
        failed = await _gather(coalescer, [outcomes("a"), outcomes("b")])
        publisher.fail = None
        return failed, await coalescer.submit(outcomes("a"))

    failed, retried = asyncio.run(scenario())
    assert all(isinstance(answer, KafkaTimeoutError) for answer in failed), failed
    assert retried == [ItemResult(cid("a"), "accepted")], "a retry after the failure is a new delivery"
    assert receipts.remembered == [cid("a")]


class GatedSettle:
    """A settle that holds each call until released, to see what queues behind a flush."""

    def __init__(self) -> None:
        self.calls: list[list[str | None]] = []
        self.release = asyncio.Event()

    async def __call__(self, batch: list[Outcome]) -> list[ItemResult]:
        self.calls.append([o.id for o in batch])
        await self.release.wait()
        return [ItemResult(o.id, "accepted") for o in batch]


def test_requests_arriving_while_every_flight_is_busy_go_together_into_the_next_flush() -> None:
    async def scenario() -> list[list[str | None]]:
        gated = GatedSettle()
        coalescer = Coalescer(gated, flights=1)
        first = asyncio.ensure_future(coalescer.submit(outcomes("a")))
        await asyncio.sleep(0)  # the flush of "a" starts and waits for its acknowledgement
        await asyncio.sleep(0)
        later = [asyncio.ensure_future(coalescer.submit(outcomes(e))) for e in "bcd"]
        await asyncio.sleep(0.01)
        assert gated.calls == [[cid("a")]], "one flight: one flush at a time"
        gated.release.set()
        await asyncio.gather(first, *later)
        return gated.calls

    assert asyncio.run(scenario()) == [[cid("a")], [cid("b"), cid("c"), cid("d")]]


def test_a_repeat_of_an_id_in_flight_waits_for_that_flush_while_other_ids_fly_beside_it() -> None:
    publisher, receipts = FakePublisher(), FakeReceipts()
    gate = asyncio.Event()

    async def held_settle(batch: list[Outcome]) -> list[ItemResult]:
        if any(o.id == cid("a") for o in batch) and not gate.is_set():
            await gate.wait()  # the first flush of "a" waits for Kafka
        return await settle(batch, publisher, receipts)

    async def scenario() -> list[list[ItemResult]]:
        coalescer = Coalescer(held_settle, flights=2)
        first = asyncio.ensure_future(coalescer.submit(outcomes("a")))
        await asyncio.sleep(0.01)
        repeat = asyncio.ensure_future(coalescer.submit(outcomes("a")))
        other = asyncio.ensure_future(coalescer.submit(outcomes("b")))
        await asyncio.sleep(0.01)
        assert other.done() and not repeat.done(), "b flies beside a; the repeat of a waits"
        gate.set()
        return [await first, await repeat, await other]

    assert asyncio.run(scenario()) == [[ItemResult(cid("a"), "accepted")], [ItemResult(cid("a"), "duplicate")],
                                       [ItemResult(cid("b"), "accepted")]]
    assert [a.id for call in publisher.calls for a in call[0]] == [cid("b"), cid("a")]


@pytest.mark.parametrize("max_items", [1, 2, 3])
def test_a_flush_takes_whole_requests_up_to_its_size_but_always_at_least_one(max_items: int) -> None:
    async def scenario() -> list[list[str | None]]:
        gated = GatedSettle()
        gated.release.set()
        coalescer = Coalescer(gated, flights=1, max_items=max_items)
        await asyncio.gather(*(coalescer.submit(r) for r in (outcomes("a", "b"), outcomes("c"), outcomes("d"))))
        return gated.calls

    calls = asyncio.run(scenario())
    assert [i for call in calls for i in call] == [cid(e) for e in "abcd"]
    assert all(len(call) <= max(max_items, 2) for call in calls)
    assert len(calls) == {1: 3, 2: 2, 3: 2}[max_items]


def _three_then(linger_s: float, *later: str) -> list[list[str | None]]:
    """A flush of three requests, then ``later`` submitted one by one, each flush released at once."""
    async def scenario() -> list[list[str | None]]:
        gated = GatedSettle()
        gated.release.set()
        coalescer = Coalescer(gated, linger_s=linger_s)
        await asyncio.gather(*(coalescer.submit(outcomes(e)) for e in "abc"))
        pending = []
        for e in later:
            pending.append(asyncio.ensure_future(coalescer.submit(outcomes(e))))
            await asyncio.sleep(0)
        await asyncio.wait_for(asyncio.gather(*pending), 5)
        return gated.calls

    return asyncio.run(scenario())


def test_a_lone_request_goes_at_once_whatever_the_linger() -> None:
    async def scenario() -> list[ItemResult]:
        gated = GatedSettle()
        gated.release.set()
        return await asyncio.wait_for(Coalescer(gated, linger_s=30).submit(outcomes("a")), 5)

    assert asyncio.run(scenario()) == [ItemResult(cid("a"), "accepted")]


def test_after_a_flush_of_three_the_next_goes_as_soon_as_three_are_waiting() -> None:
    # A 30 s linger would time the scenario out: the third request launches the flush.
    assert _three_then(30, "d", "e", "f") == [[cid(e) for e in "abc"], [cid(e) for e in "def"]]


def test_fewer_than_last_time_go_once_the_linger_is_over() -> None:
    assert _three_then(0.05, "d") == [[cid(e) for e in "abc"], [cid("d")]]
