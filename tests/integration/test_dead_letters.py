"""Poison records on interactions.v1 go to interactions.dlq with their reason; the good ones around them flow on."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import psycopg
import pytest
from kafka.consumer.fetcher import ConsumerRecord

from events.envelope import Envelope
from kartoteka import kafka
from kartoteka.settings import Settings
from tests.support.data import interaction, unique_phone
from tests.support.kafka_tools import Raw, accepted, as_raw, read_all
from tests.support.workers import running, wait_until

pytestmark = pytest.mark.integration

PIPELINE = ("resolver", "relay", "timeline")


def _envelope(type_name: str, data: dict) -> bytes:
    return Envelope(
        id=str(uuid.uuid4()), type=type_name, source="tests/poison", time=datetime.now(UTC), data=data
    ).model_dump_json().encode()


def _poison(key: bytes) -> dict[str, Raw]:
    """One record per kind of bad input, keyed like the good ones so they share a partition."""
    wrong_channel = {**interaction(), "channel": "pigeon"}
    return {
        "not json": (key, b"\xff{not json at all", []),
        "unknown type": (key, _envelope("kartoteka.telepathy.received.v9", {"thought": "?"}), []),
        "invalid interaction": (
            key,
            _envelope("kartoteka.interaction.received.v1", wrong_channel),
            [("event-type", b"kartoteka.interaction.received.v1")],
        ),
    }


def _send(settings: Settings, records: list[Raw], topic: str = "interactions.v1") -> list[tuple[int, int]]:
    """Produce in order, one acknowledged record at a time; returns (partition, offset) of each."""
    producer = kafka.producer(settings)
    try:
        placed = []
        for key, value, headers in records:
            meta = producer.send(
                settings.topic(topic), key=key, value=value, headers=headers
            ).get(15)
            placed.append((meta.partition, meta.offset))
        return placed
    finally:
        producer.close(10)


def _timeline_ids(dsn: str) -> set[str]:
    with psycopg.connect(dsn) as conn:
        return {r[0] for r in conn.execute("SELECT interaction_id::text FROM timeline")}


def _dead_letters(settings: Settings) -> list[ConsumerRecord]:
    return read_all(settings, settings.topic("interactions.dlq"))


def _headers(record: ConsumerRecord) -> dict[str, str]:
    return {k: v.decode() for k, v in record.headers}


def _same_customer(n: int) -> list:
    phone = unique_phone()
    return [accepted(interaction(customer={"phone": phone, "name": "Ольга Смирнова"})) for _ in range(n)]


def test_poison_records_are_dead_lettered_with_their_reason_and_the_records_around_them_arrive(
    settings,
):
    customer = _same_customer(6)
    before, after = customer[:3], customer[3:]
    key = before[0].key
    poison = _poison(key)
    records = [as_raw(a) for a in before] + list(poison.values()) + [as_raw(a) for a in after]
    placed = _send(settings, records)
    assert len({p for p, _ in placed}) == 1, "the poison must sit between the good records"
    where = dict(zip(poison, placed[len(before) : len(before) + len(poison)], strict=True))

    with running(settings, PIPELINE):
        wanted = {a.id for a in before + after}
        wait_until(
            lambda: wanted <= _timeline_ids(settings.dsn),
            message="the good records before and after the poison reached the timeline",
        )
        letters = wait_until(
            lambda: (found := _dead_letters(settings)) and len(found) >= len(poison) and found,
            message="dead letters",
        )

    assert _timeline_ids(settings.dsn) == wanted
    assert len(letters) == len(poison), [_headers(r) for r in letters]
    by_source = {_headers(r)["dlq-source"]: r for r in letters}
    topic = settings.topic("interactions.v1")
    assert set(by_source) == {f"{topic}/{p}/{o}" for p, o in where.values()}
    expected_reason = {
        "not json": "not a valid envelope",
        "unknown type": "unknown event type 'kartoteka.telepathy.received.v9'",
        "invalid interaction": "invalid kartoteka.interaction.received.v1 payload",
    }
    for kind, (partition, offset) in where.items():
        letter = by_source[f"{topic}/{partition}/{offset}"]
        headers = _headers(letter)
        assert expected_reason[kind] in headers["dlq-reason"], (kind, headers["dlq-reason"])
        assert headers["dlq-worker"] == "resolver"
        assert letter.key == key
        assert letter.value == poison[kind][1], f"{kind}: the dead letter must keep the original bytes"
    invalid = _headers(by_source["{}/{}/{}".format(topic, *where["invalid interaction"])])
    assert "channel" in invalid["dlq-reason"], "the reason must name the invalid field"
    assert invalid["event-type"] == "kartoteka.interaction.received.v1", "original headers are kept"


def test_the_resolver_keeps_processing_records_that_arrive_after_a_poison_record(settings):
    first = _same_customer(2)
    _send(settings, [as_raw(a) for a in first])
    with running(settings, PIPELINE) as workers:
        wait_until(
            lambda: {a.id for a in first} <= _timeline_ids(settings.dsn),
            message="the first records in the timeline",
        )
        resolver = workers["resolver"]
        processed = resolver.processed
        later = _same_customer(2)
        key = later[0].key
        tombstone: Raw = (key, None, [])  # type: ignore[assignment]  # a record with no value at all
        _send(
            settings,
            [
                (key, json.dumps({"hello": "world"}).encode(), []),
                as_raw(later[0]),
                tombstone,
                as_raw(later[1]),
            ],
        )
        wait_until(
            lambda: {a.id for a in first + later} <= _timeline_ids(settings.dsn),
            message="records after the poison reached the timeline",
        )
        letters = wait_until(
            lambda: len(found := _dead_letters(settings)) >= 2 and found, message="two dead letters"
        )
        assert not resolver.stopping.is_set()
        assert resolver.processed >= processed + 2
    reasons = sorted(_headers(r)["dlq-reason"] for r in letters)
    assert len(reasons) == 2
    assert reasons[0].startswith("not a valid envelope"), reasons
    assert reasons[1] == "record has no value", reasons
    assert all(_headers(r)["dlq-source"].startswith(settings.topic("interactions.v1") + "/") for r in letters)


def _attributed_record(customer_id: str, sequence: int) -> tuple[str, bytes]:
    """A customers.v1 record as the relay writes it; the id is a uuid unless the test says not."""
    from events.catalog import InteractionAttributed
    from events.envelope import serialise
    from events.interaction import Interaction

    iid = str(uuid.uuid4())
    payload = InteractionAttributed(
        customer_id=customer_id, interaction_id=iid, interaction=Interaction.model_validate(interaction())
    )
    return iid, serialise(payload, id=str(uuid.uuid4()), source="tests/poison", time=datetime.now(UTC),
                          subject=customer_id, sequence=sequence)


def test_a_record_the_timeline_store_refuses_is_dead_lettered_and_the_batch_around_it_is_stored(
    settings,
):
    """It decodes, but PostgreSQL refuses it (not a uuid): the batch is split until only it is left."""
    customer, key = str(uuid.uuid4()), b"one-partition"
    good = [_attributed_record(customer, n) for n in range(40)]
    poison_iid, poison = _attributed_record("not-a-uuid", 99)
    values = [v for _, v in good[:25]] + [poison] + [v for _, v in good[25:]]
    placed = _send(settings, [(key, value, []) for value in values], "customers.v1")
    assert len({p for p, _ in placed}) == 1
    partition, poison_offset = placed[25]

    with running(settings, ("timeline",)) as workers:
        wanted = {iid for iid, _ in good}
        wait_until(lambda: wanted <= _timeline_ids(settings.dsn), message="the good records stored")
        letters = wait_until(lambda: _dead_letters(settings), message="the refused record dead-lettered")
        wait_until(lambda: workers["timeline"].lag == 0, message="the timeline worker caught up")

    assert _timeline_ids(settings.dsn) == wanted
    assert len(letters) == 1 and letters[0].value == poison and letters[0].key == key
    headers = _headers(letters[0])
    assert headers["dlq-worker"] == "timeline"
    assert headers["dlq-source"] == f"{settings.topic('customers.v1')}/{partition}/{poison_offset}"
    assert "uuid" in headers["dlq-reason"], headers["dlq-reason"]
    with psycopg.connect(settings.dsn) as conn:
        tracked = conn.execute("SELECT max(notification_id) FROM tracking WHERE application_name LIKE %s",
                               (f"timeline:%:{partition}",)).fetchone()[0]
    assert tracked == placed[-1][1]
