"""The resolver's lookup tables hold keyed tokens: plain identifiers left by an older version are
rewritten when it starts, and look-ups then find their owners (real PostgreSQL)."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from events import sealing
from kartoteka import db
from kartoteka.keystore import KeyRing, master_key
from services.projections.identity.identity_log import IdentityLog
from services.projections.identity.plain_upgrade import tokenise_plain_rows
from tests.support.data import unique_phone

pytestmark = pytest.mark.integration


def test_plain_identifiers_left_by_an_older_resolver_become_tokens_and_still_match(settings):
    phone, email = f"phone:{unique_phone()}", f"email:old-{uuid.uuid4().hex[:8]}@example.ru"
    owner, interaction = str(uuid.uuid4()), str(uuid.uuid4())
    with psycopg.connect(settings.dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO identity_customers (customer_id, registered_at) VALUES (%s, now())", (owner,))
        conn.execute("INSERT INTO identity_index (key, customer_id) VALUES (%s, %s)", (phone, owner))
        conn.execute("INSERT INTO identity_unmatched (customer_id, key) VALUES (%s, %s)", (owner, email))
        conn.execute("INSERT INTO identity_held (key, customer_id) VALUES (%s, %s)", (phone, owner))
        conn.execute("INSERT INTO identity_attributions (interaction_id, customer_id, keys) VALUES (%s, %s, %s)",
                     (interaction, owner, f"{phone}\n{email}"))
    datastore = db.datastore(settings.dsn, pool_size=1)
    try:
        log_ = IdentityLog(datastore, KeyRing(master_key(settings)).pepper)
        assert tokenise_plain_rows(log_) >= 4
        assert tokenise_plain_rows(log_) == 0, "a second start finds nothing left to rewrite"
        snap = log_.snapshot([phone, email], [], [], [phone])
    finally:
        datastore.close()
    assert snap.owners == {phone: owner} and snap.held == {phone: [owner]}
    assert (owner, email) in snap.unmatched
    assert snap.attributions[interaction] == (owner, (phone, email))
    with psycopg.connect(settings.dsn) as conn:
        stored = conn.execute("SELECT key FROM identity_index WHERE customer_id = %s", (owner,)).fetchone()
        keys = conn.execute("SELECT keys FROM identity_attributions WHERE interaction_id = %s",
                            (interaction,)).fetchone()
    assert stored[0] == log_.token(phone) and stored[0].startswith("t:") and phone[6:] not in stored[0]
    assert keys[0] == f"{log_.token(phone)}\n{log_.token(email)}"
    assert log_.token(phone) == sealing.token(KeyRing(master_key(settings)).pepper, phone)


def test_an_erased_customer_is_unknown_to_the_resolver_so_a_merge_naming_them_is_refused(settings):
    erased, alive = str(uuid.uuid4()), str(uuid.uuid4())
    with psycopg.connect(settings.dsn, autocommit=True) as conn:
        for customer in (erased, alive):
            conn.execute("INSERT INTO identity_customers (customer_id, registered_at) VALUES (%s, now())",
                         (customer,))
        conn.execute("INSERT INTO erased_customers (customer_id, erased_as, reason, erased_by, erased_at)"
                     " VALUES (%s, %s, 'отзыв согласия', 'dpo-1', now())", (erased, erased))
    datastore = db.datastore(settings.dsn, pool_size=1)
    try:
        snap = IdentityLog(datastore, KeyRing(master_key(settings)).pepper).snapshot([], [], [erased, alive], [])
    finally:
        datastore.close()
    assert alive in snap.registered and erased not in snap.registered  # decide refuses "unknown customer"
