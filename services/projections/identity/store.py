"""The identity log in Postgres: eventsourcing events, the resolver's indexes and positions, atomically."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import (
    ApplicationRecorder,
    InterfaceError,
    OperationalError,
    StoredEvent,
    Tracking,
)
from eventsourcing.postgres import PostgresDatastore, PostgresProcessRecorder
from eventsourcing.utils import retry
from psycopg import Cursor

from kartoteka import db
from services.projections.identity.decide import Snapshot

Statement = tuple[str, list[tuple[Any, ...]]]


class IdentityRecorder(PostgresProcessRecorder):
    """Adds a batch's positions (one per partition) and index writes to the events' transaction."""

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """The library's insert, in a plain transaction instead of pipeline mode.

        With psycopg 3.3 and libpq 18, pipeline mode never returns once one parameter (the
        batch's events array) passes about 0.5 MB, which a 1,000-interaction batch does.
        """
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            self._insert_events(curs, stored_events, **kwargs)
            if not stored_events:
                return []
            # get_connection() turns psycopg's errors into eventsourcing's (IntegrityError...).
            self._insert_stored_events(curs, stored_events, **kwargs)
            return self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)

    def _insert_events(
        self, curs: Cursor[Any], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        for tracking in kwargs.get("trackings", ()):
            self._insert_tracking(curs, tracking)
        for sql, rows in kwargs.get("writes", ()):
            curs.executemany(sql, rows)
        super()._insert_events(curs, stored_events, **kwargs)


class IdentityLog(Application[UUID]):
    """The event-sourced identity graph (customers and attributions) and its lookups."""

    name = "identity"

    def __init__(self, datastore: PostgresDatastore) -> None:
        self._datastore = datastore
        super().__init__(env={"IS_SNAPSHOTTING_ENABLED": "n"})

    def construct_recorder(self) -> ApplicationRecorder:
        return IdentityRecorder(
            self._datastore,
            events_table_name=db.IDENTITY_EVENTS_TABLE,
            tracking_table_name=db.TRACKING_TABLE,
        )

    def record(self, aggregates: Sequence[Any], trackings: list[Tracking], writes: list[Statement]) -> None:
        self.save(*aggregates, trackings=trackings, writes=writes)

    def _rows(self, query: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        with self._datastore.get_connection() as conn:
            return conn.execute(query, params).fetchall()  # type: ignore[arg-type,return-value]

    def snapshot(self, keys: list[str], interaction_ids: list[str], customer_ids: list[str],
                 split_keys: list[str]) -> Snapshot:
        """The part of the graph a batch can touch."""
        snap = Snapshot()
        for r in self._rows("SELECT key, customer_id::text AS c, merge_times FROM identity_index"
                            " WHERE key = ANY(%s)", (keys,)):
            snap.owners[r["key"]] = r["c"]
            snap.merge_times[r["key"]] = list(r["merge_times"])
        self._load_customers(snap, {*snap.owners.values(), *customer_ids})
        known = list(snap.registered)
        for r in self._rows("SELECT a::text AS a, b::text AS b FROM identity_separations"
                            " WHERE a = ANY(%s::uuid[]) OR b = ANY(%s::uuid[])", (known, known)):
            snap.separated.add(frozenset((r["a"], r["b"])))
        for r in self._rows("SELECT customer_id::text AS c, key FROM identity_unmatched"
                            " WHERE customer_id = ANY(%s::uuid[])", (known,)):
            snap.unmatched.add((r["c"], r["key"]))
        snap.attributed = self.attributed(interaction_ids)
        if split_keys:
            sources = sorted({_resolve(snap, snap.owners[k]) for k in split_keys if k in snap.owners})
            for r in self._rows("SELECT interaction_id::text AS i, customer_id::text AS c, keys"
                                " FROM identity_attributions WHERE customer_id = ANY(%s::uuid[])", (sources,)):
                snap.attributions[r["i"]] = (r["c"], tuple(k for k in r["keys"].split("\n") if k))
        return snap

    def _load_customers(self, snap: Snapshot, ids: Iterable[str]) -> None:
        pending = {i for i in ids if i}
        for _ in range(16):  # merge chains are short; the bound only guards against a cycle
            pending -= set(snap.registered)
            if not pending:
                return
            rows = self._rows("SELECT customer_id::text AS c, registered_at, merged_into::text AS m"
                              " FROM identity_customers WHERE customer_id = ANY(%s::uuid[])", (list(pending),))
            next_round = set()
            for r in rows:
                snap.registered[r["c"]] = r["registered_at"]
                if r["m"]:
                    snap.merged_into[r["c"]] = r["m"]
                    next_round.add(r["m"])
            pending = next_round

    def attributed(self, interaction_ids: list[str]) -> set[str]:
        """Interaction ids already attributed (their aggregate exists)."""
        if not interaction_ids:
            return set()
        rows = self._rows(f"SELECT originator_id::text AS id FROM {db.IDENTITY_EVENTS_TABLE}"  # noqa: S608
                          " WHERE originator_id = ANY(%s::uuid[]) AND originator_version = 1",
                          (interaction_ids,))
        return {r["id"] for r in rows}


def _resolve(snap: Snapshot, customer_id: str) -> str:
    for _ in range(16):
        if customer_id not in snap.merged_into:
            break
        customer_id = snap.merged_into[customer_id]
    return customer_id
