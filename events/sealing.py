"""Envelope encryption of personal data, pure (no I/O): AES-GCM from ``cryptography``.

A record or a field is sealed under a *data key* that belongs to one subject (an interaction,
a customer, the audit trail); data keys are wrapped by the master key and kept in Postgres
(``kartoteka.keystore``). Destroying a subject's data key makes every copy of what was sealed
under it unreadable: on the Kafka log, in the event store, in backups and in every replay.

The sealed form carries its subject, so a reader knows which key to fetch without a header:
``MAGIC | len(subject) | subject | nonce | ciphertext``; the subject is also the AES-GCM
associated data, so a ciphertext cannot be passed off as another subject's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Callable
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"\x00KS1"  # never the first bytes of JSON, so sealed and plain records tell apart
FIELD_PREFIX = "sealed:v1:"
KEY_BYTES = 32
_NONCE = 12


quote: Callable[[str], str] = json.encoder.encode_basestring  # type: ignore[attr-defined]


class SealError(ValueError):
    """A sealed value is malformed, or does not open under the key given."""


def interaction_subject(interaction_id: str) -> str:
    return f"i:{interaction_id}"


def customer_subject(customer_id: str) -> str:
    return f"c:{customer_id}"


AUDIT_SUBJECT = "audit"


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


@lru_cache(maxsize=4)
def _master_cipher(master: bytes) -> AESGCM:
    # Built once: a construction costs twice the wrapping of a key, once per interaction at ingest.
    return AESGCM(master)


def wrap(master: bytes, subject: str, key: bytes) -> bytes:
    """A data key encrypted by the master key (bound to its subject)."""
    nonce = os.urandom(_NONCE)
    return nonce + _master_cipher(master).encrypt(nonce, key, subject.encode())


def unwrap(master: bytes, subject: str, wrapped: bytes) -> bytes:
    try:
        return _master_cipher(master).decrypt(wrapped[:_NONCE], wrapped[_NONCE:], subject.encode())
    except Exception as exc:  # InvalidTag, or a wrong length
        raise SealError(f"data key of {subject!r} does not unwrap under this master key") from exc


# A data key's cipher: building one costs about as much as sealing 800 bytes with it; a
# customer's key seals many values, the relay opens and seals each record under one key. Bounded.
_data_cipher: Callable[[bytes], AESGCM] = lru_cache(maxsize=4096)(AESGCM)


def seal(key: bytes, subject: str, plain: bytes) -> bytes:
    """``plain`` encrypted under the subject's data key, with the subject in front."""
    name = subject.encode()
    if len(name) > 255:
        raise ValueError("subject longer than 255 bytes")
    nonce = os.urandom(_NONCE)
    return b"".join((MAGIC, bytes((len(name),)), name, nonce, _data_cipher(key).encrypt(nonce, plain, name)))


def is_sealed(value: bytes | None) -> bool:
    return value is not None and value[:4] == MAGIC


def subject_of(sealed: bytes) -> str:
    if not is_sealed(sealed) or len(sealed) < 5:
        raise SealError("not a sealed value")
    return sealed[5:5 + sealed[4]].decode()


def unseal(key: bytes, sealed: bytes) -> bytes:
    subject = subject_of(sealed)
    start = 5 + sealed[4]
    nonce, body = sealed[start:start + _NONCE], sealed[start + _NONCE:]
    try:
        return _data_cipher(key).decrypt(nonce, body, subject.encode())
    except Exception as exc:
        raise SealError(f"sealed value of {subject!r} does not open under the key given") from exc


def seal_field(key: bytes, subject: str, plain: str) -> str:
    """A sealed text field, as a JSON string can hold it."""
    return blob_field(seal(key, subject, plain.encode()))


def blob_field(sealed: bytes) -> str:
    """A sealed value (from :func:`seal`) as a text field."""
    return FIELD_PREFIX + base64.b64encode(sealed).decode()


def is_sealed_field(value: object) -> bool:
    return type(value) is str and value.startswith(FIELD_PREFIX)


def field_blob(value: str) -> bytes:
    if not value.startswith(FIELD_PREFIX):
        raise SealError("not a sealed field")
    try:
        return base64.b64decode(value[len(FIELD_PREFIX):], validate=True)
    except ValueError as exc:
        raise SealError("sealed field is not base64") from exc


def unseal_field(key: bytes, value: str) -> str:
    return unseal(key, field_blob(value)).decode()


def pepper(master: bytes) -> bytes:
    """The HMAC key for tokens that replace plain identifiers (Kafka keys), derived from the master."""
    return hmac.new(master, b"kartoteka identifier tokens v1", hashlib.sha256).digest()


def id_secret(master: bytes) -> bytes:
    """The HMAC key of the deterministic interaction ids (``events.ids``), derived from the master."""
    return hmac.new(master, b"kartoteka interaction ids v1", hashlib.sha256).digest()


@lru_cache(maxsize=65536)  # one per interaction at ingest; customers come back
def token(pepper_key: bytes, identifier_key: str) -> str:
    """A stable, non-reversible stand-in for an identifier such as ``phone:+79123456789``."""
    return "t:" + hmac.new(pepper_key, identifier_key.encode(), hashlib.sha256).hexdigest()[:32]


def interaction_record(key: bytes, pepper_key: bytes, interaction_id: str, identifier_key: str,
                       value: bytes) -> tuple[bytes, bytes]:
    """An interaction event as it goes on ``interactions.v1`` (from ingest or the raw validator):
    keyed by the token of its primary identifier, sealed under the interaction's own key."""
    return token(pepper_key, identifier_key).encode(), seal(key, interaction_subject(interaction_id), value)
