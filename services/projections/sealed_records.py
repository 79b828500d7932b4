"""Opens the sealed records of a polled batch (one key fetch per batch) for any projection.

A record whose data key was destroyed (an erased customer, an expired interaction) is
*shredded*: it is skipped, counted and tracked like a processed one, never dead-lettered.
Plain records (written before encryption, or by a test producing the contract directly)
pass through unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from eventsourcing.postgres import PostgresDatastore

from events import sealing
from kartoteka.keystore import KeyRing, fetch_sync


class _Shredded:
    __slots__ = ()

    def __repr__(self) -> str:
        return "SHREDDED"


SHREDDED: Final = _Shredded()


class Opener:
    """Turns a batch's record values into plain bytes, or SHREDDED when the key is gone."""

    def __init__(self, ring: KeyRing, datastore: PostgresDatastore) -> None:
        self.ring = ring
        self.datastore = datastore
        self.shredded = 0

    def keys(self, subjects: Sequence[str]) -> dict[str, bytes]:
        with self.datastore.get_connection() as conn:
            return fetch_sync(self.ring, conn, subjects)

    def open(self, values: Sequence[bytes | None]) -> list[Any]:
        is_sealed, subject_of = sealing.is_sealed, sealing.subject_of
        subjects = [subject_of(v) for v in values if is_sealed(v)]  # type: ignore[arg-type]
        if not subjects:
            return list(values)
        keys = self.keys(subjects)
        out: list[Any] = []
        for value in values:
            if not is_sealed(value):
                out.append(value)
                continue
            key = keys.get(subject_of(value))  # type: ignore[arg-type]
            if key is None:
                self.shredded += 1
                out.append(SHREDDED)
            else:
                out.append(sealing.unseal(key, value))  # type: ignore[arg-type]
        return out
