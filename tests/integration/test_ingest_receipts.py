"""Ingest's one statement per flush against the real PostgreSQL: ids the resolver recorded come
back as duplicates and get no key; new ids get theirs (or the key a concurrent issuer stored
first); a shredded subject gets none."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from events import sealing
from kartoteka.keystore import KeyRing
from services.ingest.receipts import SEEN_THEN_ISSUE

pytestmark = pytest.mark.integration


def _flush(conn: psycopg.Connection, ring: KeyRing, ids: list[str]) -> tuple[set[str], dict[str, bytes]]:
    """What ``KafkaPublisher.publish`` does before producing: (ids recorded before, keys in force)."""
    subjects = [sealing.interaction_subject(i) for i in ids]
    names, wrapped, proposed = ring.new_rows(subjects)
    rows = conn.execute(SEEN_THEN_ISSUE, (ids, names, wrapped, ids)).fetchall()
    recorded = {r[0] for r in rows if r[1] is None}
    keys = ring.issued(proposed, [r for r in rows if r[1] is not None], dict(zip(names, wrapped, strict=True)))
    return recorded, keys


def test_one_statement_answers_duplicates_and_issues_only_the_new_ids_keys(settings):
    ring = KeyRing(sealing.new_key())
    recorded, new, shredded = (str(uuid.uuid4()) for _ in range(3))
    with psycopg.connect(settings.dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO identity_events (originator_id, originator_version, topic, state)"
                     " VALUES (%s, 1, 'test:Attributed', '\\x00')", (recorded,))
        conn.execute("INSERT INTO shredded_subjects (subject) VALUES (%s)", (sealing.interaction_subject(shredded),))

        seen, keys = _flush(conn, ring, [recorded, new, shredded])

        assert seen == {recorded}
        assert set(keys) == {sealing.interaction_subject(new)}
        stored = dict(conn.execute("SELECT subject, wrapped FROM data_keys WHERE subject = ANY(%s)",
                                   ([sealing.interaction_subject(i) for i in (recorded, new, shredded)],)).fetchall())
        assert set(stored) == {sealing.interaction_subject(new)}
        assert sealing.unwrap(ring.master, sealing.interaction_subject(new),
                              bytes(stored[sealing.interaction_subject(new)])) == keys[sealing.interaction_subject(new)]

        # Another process delivering the same new id meanwhile gets the key stored first, not its own.
        other = KeyRing(ring.master)
        seen_again, keys_again = _flush(conn, other, [new])
        assert seen_again == set()
        assert keys_again == keys
