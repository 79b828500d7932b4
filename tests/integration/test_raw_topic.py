"""Kafka-direct producers: any client writes canonical JSON to interactions.raw.v1; the validator
forwards the valid records sealed and keyed as ingest's and dead-letters the rest with an ``error``
header, exactly once across restarts, never stopped by poison."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from events import sealing, topics
from events.envelope import decode
from kartoteka.keystore import KeyRing, master_key
from tests.support import kcat, librdkafka
from tests.support.ids import deployed_id
from tests.support.kafka_tools import opened, produce, read_all
from tests.support.workers import running, wait_until

pytestmark = pytest.mark.integration


def canonical(n: int, phone: str = "+79123456789") -> str:
    return json.dumps({"channel": "sms", "external_id": f"raw-{n}", "occurred_at": "2026-11-20T10:00:00+03:00",
                       "direction": "inbound", "customer": {"phone": phone, "name": "Ирина Лаптева"},
                       "body": f"Перезвоните по заявке {n}"},
                      ensure_ascii=False)


def validator(settings):
    """The raw worker and the relay that publishes its outbox, as ``kartoteka up`` runs them."""
    return running(settings, ("raw", "relay"))


def forwarded(settings) -> list:
    return read_all(settings, settings.topic(topics.INTERACTIONS), idle_ms=300)


def forwarded_ids(settings) -> list[str]:
    """The ids of the forwarded records, opened with the keys stored."""
    return [decode(value)[0].id for value in opened(settings, forwarded(settings))]


def dead(settings) -> list:
    return read_all(settings, settings.topic(topics.INTERACTIONS_DLQ), idle_ms=300)


def kafka_python(settings, topic: str, lines: list[tuple[str, str]]) -> None:
    produce(settings, topic, [(k.encode(), v.encode(), []) for k, v in lines])


@pytest.mark.parametrize("producer", ["kcat", "librdkafka", "kafka-python"])
def test_a_foreign_producer_end_to_end(settings, producer):
    raw_topic = settings.topic(topics.INTERACTIONS_RAW)
    lines = [("any-key-1", canonical(1)), ("x", "this is not json"), ("y", json.dumps({"channel": "fax"})),
             ("any-key-2", canonical(2, "8 (912) 765-43-21"))]
    if producer == "kcat":
        kcat.produce(settings.bootstrap, raw_topic, lines)
    elif producer == "librdkafka":
        librdkafka.produce(settings.bootstrap, raw_topic, lines)
    else:
        kafka_python(settings, raw_topic, lines)
    with running(settings, ("raw", "relay", "resolver")):
        wait_until(lambda: len(forwarded(settings)) == 2 and len(dead(settings)) == 2, timeout_s=60,
                   message="two forwarded, two dead-lettered")
        wait_until(lambda: _attributed(settings) == 2, timeout_s=60, message="resolver attributed both")
    sent = forwarded(settings)
    records = {decode(value)[0].id: r for value, r in zip(opened(settings, sent), sent, strict=True)}
    assert set(records) == {deployed_id(settings, "sms", "raw-1"), deployed_id(settings, "sms", "raw-2")}
    # As ingest sends them: sealed under the interaction's own key, keyed by the identifier's token.
    pepper = KeyRing(master_key(settings)).pepper
    for id_, record in records.items():
        assert sealing.subject_of(record.value) == sealing.interaction_subject(id_)
    assert records[deployed_id(settings, "sms", "raw-2")].key == sealing.token(pepper, "phone:+79127654321").encode()
    plain = [b"79123456789", b"79127654321", "Ирина".encode(), "Лаптева".encode(), "Перезвоните".encode(),
             "заявке".encode(), b"raw-1", b"raw-2"]
    assert not [p for r in sent for p in plain if p in r.value or p in (r.key or b"")], "plain data forwarded"
    errors = sorted(dict(r.headers)["error"].decode() for r in dead(settings))
    assert errors[0].startswith("not JSON") and errors[1].startswith("not a canonical interaction")
    assert "channel" in errors[1]
    assert {r.key for r in dead(settings)} == {b"x", b"y"}  # the original key and value, kept
    assert {r.value for r in dead(settings)} == {b"this is not json", b'{"channel": "fax"}'}


def test_poison_between_good_records_and_restarts_keep_exactly_once(settings):
    raw_topic = settings.topic(topics.INTERACTIONS_RAW)
    first = [(f"k{n}".encode(), canonical(n).encode(), []) for n in range(50)]
    first[10] = (b"p", b"\x00\xff{{{", [])
    first[20] = (b"q", b"[" * 50_000, [])
    produce(settings, raw_topic, first)
    with validator(settings):
        wait_until(lambda: len(forwarded(settings)) == 48, timeout_s=60, message="48 forwarded")
    produce(settings, raw_topic, [(b"k", canonical(n).encode(), []) for n in range(45, 60)])
    with validator(settings):  # restarted: resumes from its tracked position
        wait_until(lambda: len(set(forwarded_ids(settings))) == 58, timeout_s=60, message="the new ids forwarded")
    # A repeat is sealed under the key its first forward got (each opens with the one key stored).
    ids = Counter(forwarded_ids(settings))
    # The first 50 once each; 45-49 came twice on the raw topic and are forwarded again, with the same
    # ids (the resolver keeps one), the rest once.
    assert len(forwarded(settings)) == 48 + 15
    assert all(sealing.is_sealed(r.value) for r in forwarded(settings))
    assert all(count == 1 for id_, count in ids.items()
               if id_ not in {deployed_id(settings, "sms", f"raw-{n}") for n in range(45, 50)})
    assert len(dead(settings)) == 2


def _attributed(settings) -> int:
    import psycopg

    ids = [deployed_id(settings, "sms", "raw-1"), deployed_id(settings, "sms", "raw-2")]
    with psycopg.connect(settings.dsn) as conn:
        row = conn.execute("SELECT count(*) FROM identity_events WHERE originator_id = ANY(%s::uuid[])"
                           " AND originator_version = 1", (ids,)).fetchone()
    return int(row[0]) if row else 0
