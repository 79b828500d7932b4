"""Envelope encryption, pure: seal/open, key wrapping, identifier tokens, the key ring's cache."""

from __future__ import annotations

import base64

import pytest

from events import sealing
from kartoteka.keystore import KeyRing, master_key
from kartoteka.settings import Settings


def test_a_sealed_record_opens_only_under_its_own_key_and_hides_the_text():
    key = sealing.new_key()
    plain = '{"customer": {"phone": "+79123456789", "name": "Ирина Петрова"}}'.encode()
    sealed = sealing.seal(key, "i:abc", plain)
    assert sealing.is_sealed(sealed) and not sealing.is_sealed(plain)
    assert b"79123456789" not in sealed and "Ирина".encode() not in sealed
    assert sealing.subject_of(sealed) == "i:abc"
    assert sealing.unseal(key, sealed) == plain
    with pytest.raises(sealing.SealError):
        sealing.unseal(sealing.new_key(), sealed)


def test_a_ciphertext_moved_under_another_subject_does_not_open():
    key = sealing.new_key()
    sealed = sealing.seal(key, "c:one", b"secret")
    forged = sealed.replace(b"c:one", b"c:two")
    with pytest.raises(sealing.SealError):
        sealing.unseal(key, forged)


def test_two_seals_of_the_same_text_differ_but_open_alike():
    key = sealing.new_key()
    a, b = sealing.seal(key, "s", b"x"), sealing.seal(key, "s", b"x")
    assert a != b and sealing.unseal(key, a) == sealing.unseal(key, b) == b"x"


def test_sealed_fields_are_json_safe_text_and_round_trip():
    key = sealing.new_key()
    field = sealing.seal_field(key, "c:1", "phone:+79123456789")
    assert sealing.is_sealed_field(field) and field.isascii()
    assert sealing.unseal_field(key, field) == "phone:+79123456789"
    assert not sealing.is_sealed_field("phone:+79123456789")
    with pytest.raises(sealing.SealError):
        sealing.field_blob(sealing.FIELD_PREFIX + "not base64!")


def test_a_wrapped_key_unwraps_only_under_the_master_and_for_its_subject():
    master, key = sealing.new_key(), sealing.new_key()
    wrapped = sealing.wrap(master, "c:1", key)
    assert key not in wrapped
    assert sealing.unwrap(master, "c:1", wrapped) == key
    with pytest.raises(sealing.SealError):
        sealing.unwrap(master, "c:2", wrapped)
    with pytest.raises(sealing.SealError):
        sealing.unwrap(sealing.new_key(), "c:1", wrapped)


def test_identifier_tokens_are_stable_per_master_and_reveal_nothing():
    master = sealing.new_key()
    pepper = sealing.pepper(master)
    one = sealing.token(pepper, "phone:+79123456789")
    assert one == sealing.token(pepper, "phone:+79123456789")
    assert one != sealing.token(pepper, "phone:+79123456780")
    assert one != sealing.token(sealing.pepper(sealing.new_key()), "phone:+79123456789")
    assert "7912" not in one


def test_the_ring_uses_the_key_a_concurrent_issuer_stored_first():
    ring = KeyRing(sealing.new_key())
    names, wrapped, ours = ring.new_rows(["i:1", "i:2"])
    theirs = sealing.new_key()
    # The upsert hands back the stored row: ours for i:1, the other issuer's for i:2.
    rows = [("i:1", wrapped[0]), ("i:2", sealing.wrap(ring.master, "i:2", theirs))]
    keys = ring.issued(ours, rows)
    assert keys == {"i:1": ours["i:1"], "i:2": theirs}
    # Knowing what it wrapped, the ring unwraps only the other issuer's key: same answer.
    assert ring.issued(ours, rows, dict(zip(names, wrapped, strict=True))) == keys


def test_the_rings_cache_keeps_the_most_recently_used_keys_up_to_its_limit():
    ring = KeyRing(sealing.new_key(), limit=3)
    keys = {f"i:{n}": sealing.new_key() for n in range(5)}
    epoch = ("", (0).to_bytes(8, "big", signed=True))
    ring.fetched([epoch, *((s, sealing.wrap(ring.master, s, k)) for s, k in list(keys.items())[:3])])
    assert ring.cached(["i:0"])[0] == {"i:0": keys["i:0"]}  # used: now the most recent
    ring.fetched([epoch, *((s, sealing.wrap(ring.master, s, k)) for s, k in list(keys.items())[3:])])
    found, missing = ring.cached(list(keys))
    assert found == {s: keys[s] for s in ("i:0", "i:3", "i:4")}
    assert missing == ["i:1", "i:2"]


def test_a_shredded_subject_gets_no_key_from_the_ring():
    ring = KeyRing(sealing.new_key())
    names, wrapped, ours = ring.new_rows(["i:1", "i:2"])
    # ISSUE returns no row for a shredded subject: the ring must not hand out the fresh key it made.
    assert ring.issued(ours, [("i:1", wrapped[0])]) == {"i:1": ours["i:1"]}


def test_a_destruction_anywhere_empties_the_rings_cache():
    ring = KeyRing(sealing.new_key())
    key = sealing.new_key()
    epoch = lambda n: ("", n.to_bytes(8, "big", signed=True))  # noqa: E731 - the FETCH row
    ring.fetched([epoch(0), ("c:1", sealing.wrap(ring.master, "c:1", key))])
    assert ring.cached(["c:1"]) == ({"c:1": key}, [])
    ring.fetched([epoch(0)])
    assert ring.cached(["c:1"])[0] == {"c:1": key}, "same epoch: the cache stands"
    ring.fetched([epoch(1)])
    assert ring.cached(["c:1"]) == ({}, ["c:1"]), "a destruction since: fetch again"


def test_the_master_key_is_generated_once_into_the_data_dir_or_taken_from_settings(tmp_path):
    settings = Settings(data_dir=tmp_path)
    first = master_key(settings)
    assert len(first) == 32 and master_key(Settings(data_dir=tmp_path)) == first
    assert (tmp_path / "master_key").stat().st_mode & 0o077 == 0
    given = sealing.new_key()
    assert master_key(Settings(data_dir=tmp_path, master_key=base64.b64encode(given).decode())) == given
    with pytest.raises(ValueError):
        master_key(Settings(data_dir=tmp_path, master_key=base64.b64encode(b"short").decode()))


def test_production_refuses_to_start_without_a_configured_master_key(tmp_path):
    with pytest.raises(ValueError, match="KARTOTEKA_MASTER_KEY"):
        Settings(data_dir=tmp_path, env="production", token_secret="t" * 40)
    key = base64.b64encode(sealing.new_key()).decode()
    assert Settings(data_dir=tmp_path, env="production", token_secret="t" * 40, master_key=key).master_key
