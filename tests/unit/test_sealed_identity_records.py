"""Personal fields sealed in the identity event store: nothing readable there, and the relay's
customers.v1 record, once opened, is exactly the one the plain store gives."""

from __future__ import annotations

import json
import re
from uuid import UUID

import pytest
from eventsourcing.persistence import Notification, StoredEvent

from events import sealing
from services.projections.identity.customer_records import contract_record, subject_of
from services.projections.identity.worker import _Materialiser, _subjects
from services.projections.records import decode_batch
from services.projections.sealed_records import SHREDDED
from tests.unit.test_identity_stored_events import _commands, _existing, _Log


def _notifications(events: list[StoredEvent]) -> list[Notification]:
    return [Notification(id=n + 1, originator_id=UUID(str(e.originator_id)),
                         originator_version=e.originator_version, topic=e.topic, state=e.state)
            for n, e in enumerate(events)]


def test_every_kind_sealed_in_the_store_is_published_as_the_plain_store_would_publish_it() -> None:
    app, ids = _existing()
    commands = _commands(ids)
    keys = {s: sealing.new_key() for s in _subjects(commands)}
    plain = _notifications(_Materialiser(_Log(app)).run(commands)[0])  # type: ignore[arg-type]
    sealed = _notifications(_Materialiser(_Log(app), keys).run(commands)[0])  # type: ignore[arg-type]
    assert len(plain) == len(sealed)
    assert sum(len(_personal(n.state)) for n in plain) >= 5, "the plain store holds identifiers to hide"
    for clear, secret in zip(plain, sealed, strict=True):
        subject = subject_of(secret)
        key = keys.get(subject)
        if key is None:  # a kind with nothing personal in it, under a key issued elsewhere
            key = keys[subject] = sealing.new_key()
        for personal in _personal(clear.state):
            assert personal not in secret.state, f"{personal!r} readable in {secret.topic}"
        expected, actual = contract_record(clear), contract_record(secret, key)
        if expected is None:
            assert actual is None
            continue
        assert actual is not None and actual[0] == expected[0]
        assert sealing.subject_of(actual[1]) == subject
        assert _timeless(sealing.unseal(key, actual[1])) == _timeless(expected[1])


def _personal(state: bytes) -> list[bytes]:
    """Identifier values and keys, and the interaction's customer part, of a plain stored event."""
    found = re.findall(rb'"value":("[^"]+")', state) + re.findall(rb'"((?:phone|email|handle):[^"]+)"', state)
    return found + re.findall(rb'"customer":(\{[^}]+\})', state)


def _timeless(record: bytes) -> dict[str, object]:
    """The record without the envelope time (each materialisation stamps its own)."""
    doc = json.loads(record)
    doc.pop("time")
    return doc  # type: ignore[no-any-return]


def test_a_sealed_field_without_its_key_is_refused_not_published_half_open() -> None:
    app, ids = _existing()
    commands = _commands(ids)
    keys = {s: sealing.new_key() for s in _subjects(commands)}
    sealed = _notifications(_Materialiser(_Log(app), keys).run(commands)[0])  # type: ignore[arg-type]
    linked = next(n for n in sealed if n.topic.endswith("IdentifierLinked"))
    with pytest.raises(sealing.SealError):
        contract_record(linked, None)


class _Record:
    def __init__(self, offset: int, value: bytes) -> None:
        self.topic, self.partition, self.offset, self.key, self.value = "t", 0, offset, None, value


def test_a_shredded_record_is_skipped_and_a_bad_one_still_dead_lettered() -> None:
    records = [_Record(0, b"sealed-away"), _Record(1, b"not json")]
    good, poison = decode_batch(records, None, [SHREDDED, b"not json"])  # type: ignore[arg-type]
    assert good == [] and [p.record.offset for p in poison] == [1]
