"""Raw Kafka records -> forward (our id, our key, the contract's envelope) or a dead-letter reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from events import sealing, topics
from events.envelope import decode
from services.projections.raw.validate import Forward, Invalid, verdict
from services.projections.raw.worker import records
from services.projections.records import Decoded
from tests.support.ids import SECRET, interaction_id

NOW = datetime(2026, 12, 1, tzinfo=UTC)
VALID = {"channel": "sms", "external_id": "sms-1", "occurred_at": "2026-11-20T10:00:00+03:00",
         "direction": "inbound", "customer": {"phone": "8 912 345-67-89"}, "body": "Привет"}


def test_a_canonical_record_is_forwarded_with_our_id_and_key():
    outcome = verdict(json.dumps(VALID).encode(), NOW, SECRET)
    assert isinstance(outcome, Forward)
    assert outcome.id == interaction_id("sms", "sms-1") and outcome.subject == "phone:+79123456789"
    envelope, payload = decode(outcome.value)
    assert envelope.id == outcome.id and payload.body == "Привет"


def test_poison_gets_a_reason_never_an_exception():
    cases = {
        b"": "empty record",
        b"\xff\xfe garbage": "not JSON",
        b"[1, 2]": "not a canonical interaction",
        json.dumps({**VALID, "channel": "fax"}).encode(): "channel",
        json.dumps({**VALID, "customer": {}}).encode(): "customer",
        b'{"channel": "sms", "external_id": "\\ud800"}': "not a canonical interaction",
        b"[" * 100_000: "not",
    }
    for raw, why in cases.items():
        outcome = verdict(raw, NOW, SECRET)
        assert isinstance(outcome, Invalid) and why in outcome.reason, (raw[:40], outcome)
        assert outcome.value == raw


def test_a_forward_is_sealed_under_its_interaction_key_and_keyed_by_a_token():
    outcome = verdict(json.dumps(VALID, ensure_ascii=False).encode(), NOW, SECRET)
    assert isinstance(outcome, Forward)
    subject, key, pepper = sealing.interaction_subject(outcome.id), sealing.new_key(), b"p" * 32
    item = Decoded(0, 7, b"theirs", topic="raw", digest=outcome, raw=b"{}")
    [sent] = records([item, item], {subject: key}, pepper)  # a repeat within the batch goes once
    assert sent.topic == topics.INTERACTIONS and sent.key == sealing.token(pepper, "phone:+79123456789").encode()
    assert sealing.subject_of(sent.value) == subject and sealing.unseal(key, sent.value) == outcome.value
    assert b"79123456789" not in sent.value and "Привет".encode() not in sent.value


def test_an_erased_interaction_sent_again_is_neither_forwarded_nor_dead_lettered():
    # Its subject is shredded, so the key ring gave no key: a fresh one would resurrect it.
    outcome = verdict(json.dumps(VALID, ensure_ascii=False).encode(), NOW, SECRET)
    item = Decoded(0, 7, b"theirs", topic="raw", digest=outcome, raw=b"{}")
    assert records([item], {}, b"p" * 32) == []
