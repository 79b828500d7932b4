"""Data keys in Postgres, wrapped by the master key: issue, fetch (cached), destroy.

The master key comes from ``KARTOTEKA_MASTER_KEY`` (base64 of 32 bytes) or is generated once
into the data dir (``master_key``, mode 0600); back it up apart from the database, since
without it no data key unwraps. Destroying a subject's row is the crypto-shredding.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from psycopg.rows import tuple_row

from events import sealing
from kartoteka.settings import Settings


def issue_rows(rows: str) -> str:
    """The INSERT issuing the (subject, wrapped) rows of ``rows`` (a set-returning expression or
    a CTE's name), returning the key in force for each subject that is not shredded."""
    return ("INSERT INTO data_keys (subject, wrapped) SELECT n.s, n.w FROM " + rows + " AS n(s, w)"
            " WHERE NOT EXISTS (SELECT FROM shredded_subjects x WHERE x.subject = n.s)"
            " ON CONFLICT (subject) DO UPDATE SET subject = EXCLUDED.subject RETURNING subject, wrapped")


# A shredded subject never gets a key again: its absence from the answer is the refusal.
# Arrays as binary parameters (%b): psycopg dumps a list of bytea as text in Python, which cost
# more than the rest of issuing a batch's keys (bench/README.md).
ISSUE = issue_rows("unnest(%b::text[], %b::bytea[])")
FETCH = ("SELECT subject, wrapped FROM data_keys WHERE subject = ANY(%b::text[])"
         " UNION ALL SELECT '', int8send(epoch) FROM key_epoch")
# Destroys the keys and marks their subjects shredded, in one statement (one parameter).
DESTROY = ("WITH s AS (SELECT unnest(%s::text[]) AS subject),"
           " gone AS (DELETE FROM data_keys d USING s WHERE d.subject = s.subject)"
           " INSERT INTO shredded_subjects (subject) SELECT subject FROM s ON CONFLICT DO NOTHING")
BUMP = "UPDATE key_epoch SET epoch = epoch + 1"
# Most subjects are interactions, each read once per process: the cache keeps the recent ones
# (a batch's, a busy customer's), least recently used out first, so its size stays flat. Its
# hits are the repeats within a batch or two: replaying the look-ups of a 100,000-interaction
# drain, the resolver hit 75% of them at 10,000 keys as at 50,000, the relay, timeline and
# duplicate finder 67% from 2,000 (bench/README.md, "Memory"); ~250 bytes a key.
CACHE_MAX = 10_000


def master_key(settings: Settings) -> bytes:
    """The configured master key, or the data dir's (generated on first use)."""
    if settings.master_key is not None:
        key = base64.b64decode(settings.master_key.get_secret_value())
    else:
        path = settings.data_dir / "master_key"
        if not path.exists():
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            candidate = path.with_suffix(f".tmp{secrets.token_hex(4)}")
            candidate.write_text(base64.b64encode(sealing.new_key()).decode())
            candidate.chmod(0o600)
            with contextlib.suppress(FileExistsError):  # the first writer wins; the others read its key
                os.link(candidate, path)
            candidate.unlink()
        key = base64.b64decode(path.read_text().strip())
    if len(key) != sealing.KEY_BYTES:
        raise ValueError("the master key must be 32 bytes (base64)")
    return key


class KeyRing:
    """A process's view of the data keys: SQL statements and rows in, plain keys out.

    It holds no connection: callers run ``ISSUE`` / ``FETCH`` on theirs (sync or async) and hand
    the rows back, so the HTTP services and the workers share one implementation. Keys fetched
    are cached (at most ``limit``, least recently used out first) until a destruction anywhere
    bumps ``key_epoch``.
    """

    def __init__(self, master: bytes, limit: int = CACHE_MAX) -> None:
        self.master = master
        self.pepper = sealing.pepper(master)
        self.id_secret = sealing.id_secret(master)
        self.limit = limit
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._epoch = -1

    @property
    def epoch(self) -> int:
        """The key epoch last seen (-1: none yet); a destruction anywhere moves it."""
        return self._epoch

    def new_rows(self, subjects: Iterable[str]) -> tuple[list[str], list[bytes], dict[str, bytes]]:
        """Parameters of ``ISSUE`` for fresh keys of ``subjects`` and the keys themselves."""
        keys = {s: sealing.new_key() for s in subjects}
        return list(keys), [sealing.wrap(self.master, s, k) for s, k in keys.items()], keys

    def _keep(self, subject: str, key: bytes) -> None:
        self._cache[subject] = key
        if len(self._cache) > self.limit:
            self._cache.popitem(last=False)

    def issued(self, proposed: dict[str, bytes], rows: Iterable[tuple[str, bytes]],
               wrapped_by_us: dict[str, bytes] | None = None) -> dict[str, bytes]:
        """The keys in force after ``ISSUE``: ours, or the one a concurrent issuer stored first
        (only that one is unwrapped: ours we hold already); a shredded subject is absent
        (nothing may be sealed under it again)."""
        out = {}
        ours = wrapped_by_us or {}
        for subject, wrapped in rows:
            stored = bytes(wrapped)
            key = out[subject] = (proposed[subject] if ours.get(subject) == stored
                                  else sealing.unwrap(self.master, subject, stored))
            self._keep(subject, key)
        return out

    def cached(self, subjects: Iterable[str]) -> tuple[dict[str, bytes], list[str]]:
        found, missing = {}, []
        cache = self._cache
        for s in subjects:
            key = cache.get(s)
            if key is None:
                missing.append(s)
            else:
                found[s] = key
                cache.move_to_end(s)
        return found, missing

    def fetched(self, rows: Iterable[tuple[str, Any]]) -> dict[str, bytes]:
        """Keys from ``FETCH`` rows; a destruction since the last fetch empties the cache first."""
        keys = {}
        for subject, wrapped in rows:
            if subject == "":
                epoch = int.from_bytes(bytes(wrapped), "big", signed=True)
                if epoch != self._epoch:
                    self._cache.clear()
                    self._epoch = epoch
            else:
                keys[subject] = sealing.unwrap(self.master, subject, bytes(wrapped))
        for subject, key in keys.items():
            self._keep(subject, key)
        return keys

    def forget(self, subjects: Iterable[str]) -> None:
        for s in subjects:
            self._cache.pop(s, None)


def fetch_sync(ring: KeyRing, conn: Any, subjects: Iterable[str]) -> dict[str, bytes]:
    """The keys of ``subjects`` that exist (a destroyed one is absent), on a psycopg connection.

    The epoch row comes with every fetch, so even an all-cached batch checks for destructions;
    keys the cache lost to one are fetched again (the second fetch is rare: after a destruction).
    The keys are collected as they come, not read back from the cache: a batch may want more
    subjects than the cache holds.
    """
    fetch = _Fetch(ring, subjects)
    with conn.cursor(row_factory=tuple_row) as cur:  # the workers' connections default to dict rows
        while (missing := fetch.missing()) is not None:
            fetch.got(cur.execute(FETCH, (missing,)).fetchall())
    return fetch.keys()


async def fetch_async(ring: KeyRing, conn: Any, subjects: Iterable[str]) -> dict[str, bytes]:
    fetch = _Fetch(ring, subjects)
    async with conn.cursor(row_factory=tuple_row) as cursor:
        while (missing := fetch.missing()) is not None:
            await cursor.execute(FETCH, (missing,))
            fetch.got(await cursor.fetchall())
    return fetch.keys()


class _Fetch:
    """One fetch of keys: what to ask the database next (``FETCH``'s parameter), and the answer.

    Round one asks for the keys the cache lacks; when its answer shows a destruction since
    (the epoch moved: the cache was emptied), round two asks for those the cache held.
    """

    def __init__(self, ring: KeyRing, subjects: Iterable[str]) -> None:
        self.ring = ring
        self.wanted = list(dict.fromkeys(subjects))
        self.found: dict[str, bytes] = {}
        self.held: dict[str, bytes] = {}  # read from the cache before this round's fetch
        self.asked: set[str] = set()
        self.rounds = 0
        self.epoch = ring.epoch

    def missing(self) -> list[str] | None:
        """The subjects to fetch now (maybe none: the epoch comes anyway), None when done."""
        if self.rounds == 2 or (self.rounds == 1 and self.ring.epoch == self.epoch):
            self.found.update(self.held)
            return None
        self.epoch = self.ring.epoch
        self.held, missing = self.ring.cached(self.wanted)
        missing = [s for s in missing if s not in self.asked]
        if self.rounds and not missing:
            self.found.update(self.held)
            return None
        self.asked.update(missing)
        return missing

    def got(self, rows: Iterable[tuple[str, Any]]) -> None:
        self.rounds += 1
        self.found.update(self.ring.fetched(rows))

    def keys(self) -> dict[str, bytes]:
        return {s: self.found[s] for s in self.wanted if s in self.found}


def issue_sync(ring: KeyRing, conn: Any, subjects: Iterable[str]) -> dict[str, bytes]:
    names, wrapped, keys = ring.new_rows(subjects)
    if not names:
        return {}
    with conn.cursor(row_factory=tuple_row) as cur:
        rows = cur.execute(ISSUE, (names, wrapped)).fetchall()
        return ring.issued(keys, rows, dict(zip(names, wrapped, strict=True)))


async def issue_async(ring: KeyRing, conn: Any, subjects: Iterable[str]) -> dict[str, bytes]:
    names, wrapped, keys = ring.new_rows(subjects)
    if not names:
        return {}
    async with conn.cursor(row_factory=tuple_row) as cursor:
        await cursor.execute(ISSUE, (names, wrapped))
        return ring.issued(keys, await cursor.fetchall(), dict(zip(names, wrapped, strict=True)))


def ensure_sync(ring: KeyRing, conn: Any, subjects: Iterable[str]) -> dict[str, bytes]:
    """The keys of ``subjects``, issuing those that do not exist (in their own transaction)."""
    wanted = list(dict.fromkeys(subjects))
    found = fetch_sync(ring, conn, wanted)
    fresh = [s for s in wanted if s not in found]
    if fresh:
        # One statement: in autocommit it is its own transaction, where BEGIN and COMMIT
        # around it were two more round trips on the resolver's path.
        with contextlib.nullcontext() if conn.autocommit else conn.transaction():
            found.update(issue_sync(ring, conn, fresh))
    return found


async def ensure_async(ring: KeyRing, conn: Any, subjects: Iterable[str]) -> dict[str, bytes]:
    wanted = list(dict.fromkeys(subjects))
    found = await fetch_async(ring, conn, wanted)
    fresh = [s for s in wanted if s not in found]
    if fresh:
        async with conn.transaction():
            found.update(await issue_async(ring, conn, fresh))
    return found
