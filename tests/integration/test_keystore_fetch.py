"""Fetching data keys with a ring smaller than the batch, and across a destruction (real PostgreSQL)."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from events import sealing
from kartoteka.keystore import BUMP, DESTROY, KeyRing, fetch_sync, issue_sync

pytestmark = pytest.mark.integration


def _subjects(n: int) -> list[str]:
    return [sealing.interaction_subject(str(uuid.uuid4())) for _ in range(n)]


def test_a_batch_gets_every_key_even_when_it_wants_more_than_the_ring_holds(settings):
    master, subjects = sealing.new_key(), _subjects(8)
    with psycopg.connect(settings.dsn, autocommit=True) as conn:
        issued = issue_sync(KeyRing(master), conn, subjects)
        ring = KeyRing(master, limit=3)
        assert fetch_sync(ring, conn, subjects) == issued
        assert fetch_sync(ring, conn, subjects) == issued, "some from the cache, the rest fetched"


def test_a_destruction_between_two_fetches_leaves_the_destroyed_key_out_and_the_others_in(settings):
    master, subjects = sealing.new_key(), _subjects(4)
    with psycopg.connect(settings.dsn, autocommit=True) as conn:
        issued = issue_sync(KeyRing(master), conn, subjects)
        ring = KeyRing(master, limit=3)
        assert fetch_sync(ring, conn, subjects[:2]) == {s: issued[s] for s in subjects[:2]}
        conn.execute(DESTROY, ([subjects[0]],))  # elsewhere: the cached key is gone
        conn.execute(BUMP)
        assert fetch_sync(ring, conn, subjects) == {s: issued[s] for s in subjects[1:]}
