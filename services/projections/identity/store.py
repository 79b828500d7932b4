"""The identity log in Postgres: eventsourcing events, the identifier index and positions, atomically."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import ApplicationRecorder, StoredEvent, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresProcessRecorder
from psycopg import Cursor

from kartoteka import db


class IdentityRecorder(PostgresProcessRecorder):
    """Adds a whole batch's positions (one per partition) and index rows to the events' transaction."""

    def _insert_events(
        self, curs: Cursor[Any], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        for tracking in kwargs.get("trackings", ()):
            self._insert_tracking(curs, tracking)
        index_rows = kwargs.get("index_rows")
        if index_rows:
            curs.executemany(
                "INSERT INTO identity_index (key, customer_id) VALUES (%s, %s)"
                " ON CONFLICT (key) DO NOTHING",
                index_rows,
            )
        super()._insert_events(curs, stored_events, **kwargs)


class IdentityLog(Application[UUID]):
    """The event-sourced identity graph (customers and attributions)."""

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

    def record(
        self,
        aggregates: Sequence[Any],
        trackings: list[Tracking],
        index_rows: list[tuple[str, str]],
    ) -> None:
        self.save(*aggregates, trackings=trackings, index_rows=index_rows)

    def lookup(self, keys: list[str]) -> dict[str, str]:
        """Which customer each identifier key belongs to."""
        if not keys:
            return {}
        with self._datastore.get_connection() as conn:
            rows = conn.execute(
                "SELECT key, customer_id::text AS customer_id FROM identity_index WHERE key = ANY(%s)",
                (keys,),
            ).fetchall()
        return {r["key"]: r["customer_id"] for r in rows}

    def attributed(self, interaction_ids: list[str]) -> set[str]:
        """Interaction ids already attributed (their aggregate exists)."""
        if not interaction_ids:
            return set()
        with self._datastore.get_connection() as conn:
            rows = conn.execute(
                f"SELECT originator_id::text AS id FROM {db.IDENTITY_EVENTS_TABLE}"  # noqa: S608
                " WHERE originator_id = ANY(%s::uuid[]) AND originator_version = 1",
                (interaction_ids,),
            ).fetchall()
        return {r["id"] for r in rows}
