"""The identity log in Postgres: eventsourcing events, the resolver's indexes and positions, atomically."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import (
    ApplicationRecorder,
    InterfaceError,
    Notification,
    OperationalError,
    StoredEvent,
    Tracking,
)
from eventsourcing.postgres import PostgresDatastore, PostgresProcessRecorder
from eventsourcing.utils import retry
from psycopg import Connection, Cursor
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from events import sealing
from kartoteka import db
from kartoteka.keystore import KeyRing, ensure_sync
from services.projections.identity import index_sql as sql
from services.projections.identity.decide import Snapshot
from services.projections.identity.guards import Traits
from services.projections.tracking import queue_positions

Statement = tuple[str, list[tuple[Any, ...]]]


class IdentityRecorder(PostgresProcessRecorder):
    """Adds a batch's positions (one per partition) and index writes to the events' transaction."""

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str,
                 tracking_table_name: str) -> None:
        super().__init__(datastore, events_table_name=events_table_name,
                         tracking_table_name=tracking_table_name)
        # One binary array per column: the library's array of composites is dumped as text in
        # Python and parsed again by the server (bench/README.md).
        self.insert_columns_statement = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state)"
            " SELECT * FROM unnest(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[])"
            " RETURNING notification_id"
        ).format(schema=Identifier(datastore.schema), table=Identifier(events_table_name))

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """The library's insert, plus the batch's positions and index writes, in one transaction.

        The positions, the writes, the table lock and the notification go in one pipeline (one
        round trip, where each was one: most of a caught-up resolver's time per batch). The
        events array goes after it, outside: with psycopg 3.3 and libpq 18 the library's
        pipelined insert never returned once that parameter passed about 0.5 MB.
        """
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            with conn.pipeline():
                recorded = queue_positions(conn.cursor(), self.insert_tracking_statement,
                                           kwargs.get("trackings", ()))
                self._queue_writes(curs, kwargs.get("writes", ()))
                if stored_events:
                    # Same lock and notification as the library: notification ids in commit order.
                    self._lock_table(curs)
                    self._notify_channel(curs)
            recorded()
            if not stored_events:
                return []
            # get_connection() turns psycopg's errors into eventsourcing's (IntegrityError...).
            # Ids as tuples: the library's dict row per event was 4% of the resolver's CPU.
            with conn.cursor(row_factory=tuple_row, binary=True) as ids:
                ids.execute(self.insert_columns_statement, (
                    [e.originator_id for e in stored_events],
                    [e.originator_version for e in stored_events],
                    [e.topic for e in stored_events],
                    [e.state for e in stored_events],
                ))
                return [n for (n,) in ids.fetchall()]

    @staticmethod
    def _queue_writes(curs: Cursor[Any], writes: Iterable[Statement]) -> None:
        for statement, rows in writes:
            if not rows:
                continue
            if statement in sql.BULK:
                curs.execute(statement, [list(column) for column in zip(*rows, strict=True)])
            else:
                curs.executemany(statement, rows)


class IdentityLog(Application[UUID]):
    """The event-sourced identity graph (customers and attributions) and its lookups."""

    name = "identity"

    def __init__(self, datastore: PostgresDatastore, pepper: bytes | None = None) -> None:
        self._datastore = datastore
        # The lookup tables hold keyed tokens of identifiers, never the identifiers: they only
        # answer "who holds this one?", and an erased person's rows must read as nothing.
        # Cached here, per identifier, over the uncached function: sealing.token's own cache
        # was only asked on this one's misses (0 hits while holding 45,000 entries).
        self.token: Callable[[str], str] = (
            functools.lru_cache(maxsize=65536)(functools.partial(sealing.token.__wrapped__, pepper))
            if pepper else str)
        super().__init__(env={"IS_SNAPSHOTTING_ENABLED": "n"})

    @property
    def datastore(self) -> PostgresDatastore:
        return self._datastore

    def construct_recorder(self) -> ApplicationRecorder:
        return IdentityRecorder(
            self._datastore,
            events_table_name=db.IDENTITY_EVENTS_TABLE,
            tracking_table_name=db.TRACKING_TABLE,
        )

    def record(self, events: Sequence[StoredEvent], trackings: list[Tracking], writes: list[Statement]) -> None:
        """Events, index writes and positions in one transaction; a version conflict raises
        ``RecordConflictError`` (``IntegrityError``) and records nothing."""
        self.recorder.insert_events(events, trackings=trackings, writes=writes)

    _select_notifications = (
        "SELECT notification_id, originator_id::text, originator_version, topic, state"  # noqa: S608
        f" FROM {db.IDENTITY_EVENTS_TABLE} WHERE notification_id > %s ORDER BY notification_id LIMIT %s")

    def _rows(self, query: str, params: tuple[Any, ...], conn: Connection[Any] | None = None) -> list[tuple[Any, ...]]:
        if conn is None:
            with self._datastore.get_connection() as own:
                return self._rows(query, params, own)
        # Tuples in binary: dict rows cost more than the queries on a resolver's small batches.
        with conn.cursor(row_factory=tuple_row, binary=True) as curs:
            curs.execute(query, params)  # type: ignore[arg-type]
            return curs.fetchall()

    def snapshot(self, keys: list[str], interaction_ids: list[str], customer_ids: list[str],
                 split_keys: list[str]) -> Snapshot:
        """The part of the graph a batch can touch."""
        # One connection for every look-up: each check-out of the pool is a round trip (pre-ping).
        with self._datastore.get_connection() as conn:
            return self._snapshot(conn, keys, interaction_ids, customer_ids, split_keys)

    def _snapshot(self, conn: Connection[Any], keys: list[str], interaction_ids: list[str],
                  customer_ids: list[str], split_keys: list[str]) -> Snapshot:
        # Two pipelines (round trips): what the keys and ids name, then what the customers
        # found hold. Each look-up was a round trip of its own, most of a small batch's time.
        snap = Snapshot()
        by_token = {self.token(k): k for k in keys}
        tokens = list(by_token)

        def plain(token: str) -> str:  # decisions speak of identifiers; the rows only of tokens
            return by_token.get(token, token)

        with conn.pipeline():
            owners = self._queue(conn, sql.SNAPSHOT_OWNERS, (tokens,))
            held = self._queue(conn, sql.SNAPSHOT_HELD, (tokens,))
            customers = self._queue(conn, sql.SNAPSHOT_CUSTOMERS, (customer_ids, tokens, tokens))
            attributed = self._queue(conn, sql.SNAPSHOT_ATTRIBUTED, (interaction_ids,))
        for key, owner, merge_times in owners.fetchall():
            snap.owners[plain(key)] = owner
            snap.merge_times[plain(key)] = list(merge_times)
        for key, holder in held.fetchall():
            snap.held.setdefault(plain(key), []).append(holder)
        snap.attributed = {originator for (originator,) in attributed.fetchall()}
        self._load_customers(conn, snap, self._registered(snap, customers.fetchall()))
        known = list(snap.registered)
        with conn.pipeline():
            separated = self._queue(conn, sql.SNAPSHOT_SEPARATIONS, (known, known))
            traits = self._queue(conn, sql.SNAPSHOT_TRAITS, (known,))
            unmatched = self._queue(conn, sql.SNAPSHOT_UNMATCHED, (known,))
        for a, b in separated.fetchall():
            snap.separated.add(frozenset((a, b)))
        for customer, born, first, surname in traits.fetchall():
            snap.traits[customer] = Traits(born, first, surname)
        for customer, key in unmatched.fetchall():
            snap.unmatched.add((customer, plain(key)))
        if split_keys:
            sources = sorted({_resolve(snap, snap.owners[k]) for k in split_keys if k in snap.owners})
            for interaction, customer, joined in self._rows(
                    "SELECT interaction_id::text, customer_id::text, keys FROM identity_attributions"
                    " WHERE customer_id = ANY(%b::uuid[])", (sources,), conn):
                snap.attributions[interaction] = (customer, tuple(plain(k) for k in joined.split("\n") if k))
            self._load_members(conn, snap, sources, plain)
        return snap

    @staticmethod
    def _queue(conn: Connection[Any], query: str, params: tuple[Any, ...]) -> Cursor[Any]:
        """A query sent in the caller's pipeline; its cursor has the rows once the pipeline synced."""
        curs = conn.cursor(row_factory=tuple_row, binary=True)
        curs.execute(query, params)  # type: ignore[arg-type]
        return curs

    def _load_members(self, conn: Connection[Any], snap: Snapshot, sources: list[str],
                      plain: Callable[[str], str]) -> None:
        """The split sources' merged-in members, and the keys every loaded customer linked itself
        (a customer merged within the batch is loaded already: it owned a key or was named)."""
        members = [m for (m,) in self._rows("SELECT customer_id::text FROM identity_customers"
                                            " WHERE merged_into = ANY(%b::uuid[])", (sources,), conn)]
        self._load_customers(conn, snap, members)
        for customer, key in self._rows("SELECT customer_id::text, key FROM identity_member_keys"
                                        " WHERE customer_id = ANY(%b::uuid[])", (list(snap.registered),), conn):
            snap.member_keys.setdefault(customer, set()).add(plain(key))

    def _load_customers(self, conn: Connection[Any], snap: Snapshot, ids: Iterable[str]) -> None:
        pending = {i for i in ids if i}
        for _ in range(16):  # merge chains are short; the bound only guards against a cycle
            pending -= set(snap.registered)
            if not pending:
                return
            pending = self._registered(snap, self._rows(sql.SNAPSHOT_CUSTOMERS_BY_ID, (list(pending),), conn))

    @staticmethod
    def _registered(snap: Snapshot, rows: Iterable[tuple[Any, ...]]) -> set[str]:
        """Adds the customers of ``rows`` to ``snap``; the ids they were merged into."""
        merged_into_ids = set()
        for customer, registered_at, merged_into in rows:
            snap.registered[customer] = registered_at
            if merged_into:
                snap.merged_into[customer] = merged_into
                merged_into_ids.add(merged_into)
        return merged_into_ids

    def data_keys(self, ring: KeyRing, subjects: list[str]) -> dict[str, bytes]:
        """The keys of ``subjects``: cached, stored, or issued now (a plain record's interaction,
        a new customer); issued in their own transaction, harmless if the batch then fails."""
        found, missing = ring.cached(dict.fromkeys(subjects))
        if missing:
            with self._datastore.get_connection() as conn:
                found.update(ensure_sync(ring, conn, missing))
        return found

    def attributed(self, interaction_ids: list[str], conn: Connection[Any] | None = None) -> set[str]:
        """Interaction ids already attributed (their aggregate exists)."""
        if not interaction_ids:
            return set()
        rows = self._rows(sql.SNAPSHOT_ATTRIBUTED, (interaction_ids,), conn)
        return {originator for (originator,) in rows}

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)  # as the library's select
    def notifications(self, after: int, limit: int) -> list[Notification]:
        """``recorder.select_notifications(after, limit, inclusive_of_start=False)``, cheaper.

        Ids come as text (the relay publishes them as text), rows as tuples, all in binary:
        the library's dict rows and UUID objects were a fifth of the relay's CPU.
        """
        with self._datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row, binary=True) as curs:
            curs.execute(self._select_notifications, (after, limit), prepare=True)
            return [Notification(id=n, originator_id=o, originator_version=v, topic=t, state=s)
                    for n, o, v, t, s in curs.fetchall()]

    def versions(self, originator_ids: list[str]) -> dict[str, int]:
        """The last stored version of each existing aggregate (the others are absent)."""
        if not originator_ids:
            return {}
        rows = self._rows(f"SELECT originator_id::text, max(originator_version)"  # noqa: S608
                          f" FROM {db.IDENTITY_EVENTS_TABLE} WHERE originator_id = ANY(%b::uuid[])"
                          " GROUP BY originator_id", (originator_ids,))
        return dict(rows)  # type: ignore[arg-type]

    def attributed_to(self, interaction_ids: list[str]) -> dict[str, str]:
        """The customer each interaction was first attributed to (its key on customers.v1)."""
        if not interaction_ids:
            return {}
        rows = self._rows(f"SELECT originator_id::text, state FROM {db.IDENTITY_EVENTS_TABLE}"  # noqa: S608
                          " WHERE originator_id = ANY(%b::uuid[]) AND originator_version = 1",
                          (interaction_ids,))
        return {originator: json.loads(bytes(state))["customer_id"] for originator, state in rows}


def _resolve(snap: Snapshot, customer_id: str) -> str:
    for _ in range(16):
        if customer_id not in snap.merged_into:
            break
        customer_id = snap.merged_into[customer_id]
    return customer_id
