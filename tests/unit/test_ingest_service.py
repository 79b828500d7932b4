"""Ingest's service function with in-memory fakes behind its two ports (no Kafka, no Postgres)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from services.ingest.accept import Accepted
from services.ingest.service import ItemResult, ingest
from tests.support.ids import SECRET, interaction_id


class FakePublisher:
    """Records every publish call; ``recorded`` are ids the identity store holds (duplicates it
    does not produce); can be told to fail like an unreachable broker."""

    id_secret = SECRET

    def __init__(self, fail: Exception | None = None, recorded: set[str] | None = None) -> None:
        self.calls: list[tuple[list[Accepted], datetime]] = []
        self.fail = fail
        self.recorded = set(recorded or ())
        self.produced: list[str] = []

    async def publish(self, items: list[Accepted], received_at: datetime) -> set[str]:
        self.calls.append((list(items), received_at))
        if self.fail is not None:
            raise self.fail
        self.produced.extend(i.id for i in items if i.id not in self.recorded)
        return {i.id for i in items if i.id in self.recorded}


class FakeReceipts:
    """Ids this process remembers; records what it was asked and what it was told to remember."""

    def __init__(self, known: set[str] | None = None) -> None:
        self.known = set(known or ())
        self.asked: list[list[str]] = []
        self.remembered: list[str] = []

    def recent(self, ids: list[str]) -> set[str]:
        self.asked.append(list(ids))
        return {i for i in ids if i in self.known}

    def remember(self, ids: list[str]) -> None:
        self.remembered.extend(ids)
        self.known.update(ids)


def item(external_id: str, **overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "channel": "call",
        "external_id": external_id,
        "occurred_at": "2024-05-01T10:00:00+03:00",
        "direction": "inbound",
        "customer": {"phone": "8 912 345-67-89", "name": "Ирина Петрова"},
    }
    raw.update(overrides)
    return raw


def run(items: list[Any], publisher: FakePublisher, receipts: FakeReceipts) -> list[ItemResult]:
    return asyncio.run(ingest(items, publisher, receipts))


def cid(external_id: str, channel: str = "call") -> str:
    return interaction_id(channel, external_id)


def test_valid_items_are_accepted_with_their_deterministic_ids_in_input_order() -> None:
    publisher, receipts = FakePublisher(), FakeReceipts()
    results = run([item("c-1"), item("c-2", channel="sms"), item("c-3")], publisher, receipts)
    assert results == [
        ItemResult(cid("c-1"), "accepted"),
        ItemResult(cid("c-2", "sms"), "accepted"),
        ItemResult(cid("c-3"), "accepted"),
    ]


def test_the_publisher_is_called_once_with_every_new_item_in_order() -> None:
    publisher, receipts = FakePublisher(), FakeReceipts()
    before = datetime.now(UTC)
    run([item("c-1"), item("c-2")], publisher, receipts)
    assert len(publisher.calls) == 1
    sent, received_at = publisher.calls[0]
    assert [a.id for a in sent] == [cid("c-1"), cid("c-2")]
    assert [a.interaction.external_id for a in sent] == ["c-1", "c-2"]
    assert received_at.tzinfo is not None and received_at >= before


@pytest.mark.parametrize(
    ("raw", "reason_part", "has_id"),
    [
        pytest.param("just text", "item must be a JSON object", False, id="not-an-object"),
        pytest.param(["a", "list"], "item must be a JSON object", False, id="a-list"),
        pytest.param(item("c-9", channel="fax"), "channel", True, id="unknown-channel"),
        pytest.param(
            item("c-9", occurred_at="2024-05-01T10:00:00"), "occurred_at", True, id="naive-time"
        ),
        pytest.param(item("c-9", customer={"name": "Ирина"}), "customer", True, id="no-identifier"),
        pytest.param(item("c-9", priority="high"), "priority", True, id="unknown-field"),
        pytest.param(item("", body="x"), "external_id", False, id="empty-external-id"),
    ],
)
def test_an_invalid_item_is_rejected_with_its_reason(
    raw: Any, reason_part: str, has_id: bool
) -> None:
    publisher, receipts = FakePublisher(), FakeReceipts()
    [result] = run([raw], publisher, receipts)
    assert result.status == "rejected"
    assert result.error is not None and reason_part in result.error
    assert (result.id is not None) is has_id
    assert publisher.calls == [] and receipts.remembered == []


def test_rejected_items_do_not_hold_back_the_valid_items_around_them() -> None:
    publisher, receipts = FakePublisher(), FakeReceipts()
    results = run(
        [item("c-1"), 42, item("c-3", direction="sideways"), item("c-4")], publisher, receipts
    )
    assert [r.status for r in results] == ["accepted", "rejected", "rejected", "accepted"]
    assert [a.id for a in publisher.calls[0][0]] == [cid("c-1"), cid("c-4")]


def test_a_repeat_within_one_batch_is_a_duplicate_with_the_same_id_and_sent_once() -> None:
    publisher, receipts = FakePublisher(), FakeReceipts()
    results = run([item("c-1"), item("c-1", body="retry"), item("c-2")], publisher, receipts)
    assert results == [
        ItemResult(cid("c-1"), "accepted"),
        ItemResult(cid("c-1"), "duplicate"),
        ItemResult(cid("c-2"), "accepted"),
    ]
    assert [a.id for a in publisher.calls[0][0]] == [cid("c-1"), cid("c-2")]


def test_an_item_the_receipts_already_hold_is_a_duplicate_and_not_sent_again() -> None:
    publisher, receipts = FakePublisher(), FakeReceipts(known={cid("c-1")})
    results = run([item("c-1"), item("c-2")], publisher, receipts)
    assert results == [ItemResult(cid("c-1"), "duplicate"), ItemResult(cid("c-2"), "accepted")]
    assert [a.id for a in publisher.calls[0][0]] == [cid("c-2")]
    assert receipts.asked == [[cid("c-1"), cid("c-2")]]


def test_an_item_the_identity_store_recorded_is_a_duplicate_not_produced_nor_remembered() -> None:
    publisher, receipts = FakePublisher(recorded={cid("c-1")}), FakeReceipts()
    results = run([item("c-2"), item("c-1"), item("c-1"), item("c-3")], publisher, receipts)
    assert results == [ItemResult(cid("c-2"), "accepted"), ItemResult(cid("c-1"), "duplicate"),
                       ItemResult(cid("c-1"), "duplicate"), ItemResult(cid("c-3"), "accepted")]
    assert [a.id for a in publisher.calls[0][0]] == [cid("c-2"), cid("c-1"), cid("c-3")]
    assert publisher.produced == [cid("c-2"), cid("c-3")]
    assert receipts.remembered == [cid("c-2"), cid("c-3")]


def test_a_batch_of_only_known_items_publishes_nothing() -> None:
    publisher, receipts = FakePublisher(), FakeReceipts(known={cid("c-1")})
    assert [r.status for r in run([item("c-1")], publisher, receipts)] == ["duplicate"]
    assert publisher.calls == [] and receipts.remembered == []


def test_a_batch_of_only_rejected_items_asks_no_receipts_and_publishes_nothing() -> None:
    publisher, receipts = FakePublisher(), FakeReceipts()
    assert [r.status for r in run([1, None], publisher, receipts)] == ["rejected", "rejected"]
    assert receipts.asked == [] and publisher.calls == []


def test_an_empty_batch_gives_no_results() -> None:
    publisher, receipts = FakePublisher(), FakeReceipts()
    assert run([], publisher, receipts) == []
    assert publisher.calls == []


def test_published_ids_are_remembered_so_a_retry_is_a_duplicate() -> None:
    publisher, receipts = FakePublisher(), FakeReceipts()
    run([item("c-1"), item("c-1"), item("c-2")], publisher, receipts)
    assert receipts.remembered == [cid("c-1"), cid("c-2")]
    retry = run([item("c-1")], publisher, receipts)
    assert retry == [ItemResult(cid("c-1"), "duplicate")]
    assert len(publisher.calls) == 1


def test_nothing_is_remembered_when_publishing_fails() -> None:
    publisher, receipts = (
        FakePublisher(fail=TimeoutError("broker did not acknowledge")),
        FakeReceipts(),
    )
    with pytest.raises(TimeoutError):
        run([item("c-1"), item("c-2")], publisher, receipts)
    assert receipts.remembered == []
    assert len(publisher.calls) == 1


def test_after_a_failed_publish_a_retry_is_accepted_not_duplicate() -> None:
    receipts = FakeReceipts()
    with pytest.raises(ConnectionError):
        run([item("c-1")], FakePublisher(fail=ConnectionError("no broker")), receipts)
    publisher = FakePublisher()
    assert run([item("c-1")], publisher, receipts) == [ItemResult(cid("c-1"), "accepted")]
    assert [a.id for a in publisher.calls[0][0]] == [cid("c-1")]


def test_an_item_result_serialises_in_the_contract_shape() -> None:
    assert ItemResult("x", "rejected", "channel: bad").as_json() == {
        "id": "x",
        "status": "rejected",
        "error": "channel: bad",
    }
    assert ItemResult("x", "accepted").as_json() == {"id": "x", "status": "accepted", "error": None}


def test_an_accepted_item_is_keyed_by_its_primary_identifier() -> None:
    publisher = FakePublisher()
    run(
        [item("c-1", customer={"email": "Irina@Example.RU", "handle": "tg:x"})],
        publisher,
        FakeReceipts(),
    )
    assert publisher.calls[0][0][0].key == b"email:irina@example.ru"
