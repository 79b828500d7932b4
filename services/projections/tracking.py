"""Tracked Kafka positions in Postgres (eventsourcing ``Tracking``), the truth a worker resumes from.

A position is named ``<worker>:<topic>:<topic id>:<partition>`` and its notification id is
the last processed offset. The topic id changes when a topic is recreated (an in-memory
broker restarted), so a reset log gets a fresh name instead of a stale position that
would skip its new records.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg import Cursor

from kartoteka import db


def position_name(worker: str, topic: str, topic_id: str, partition: int) -> str:
    return f"{worker}:{topic}:{topic_id}:{partition}"


class Positions:
    """Reads positions, and writes them inside a caller's transaction."""

    def __init__(self, datastore: PostgresDatastore) -> None:
        self.recorder = PostgresTrackingRecorder(datastore, tracking_table_name=db.TRACKING_TABLE)
        self.datastore = datastore

    def get(self, names: Iterable[str]) -> dict[str, int | None]:
        wanted = list(names)
        with self.datastore.get_connection() as conn:
            rows = conn.execute(
                f"SELECT application_name, notification_id FROM {db.TRACKING_TABLE}"  # noqa: S608
                " WHERE application_name = ANY(%s)",
                (wanted,),
            ).fetchall()
        found = {r["application_name"]: r["notification_id"] for r in rows}
        return {name: found.get(name) for name in wanted}

    def record(self, curs: Cursor[Any], trackings: Iterable[Tracking]) -> None:
        for tracking in trackings:
            self.recorder._insert_tracking(curs, tracking)  # noqa: SLF001 - same txn by design

    def commit(self, statements: Iterable[tuple[str, Sequence[Any]]], trackings: Iterable[Tracking]) -> None:
        """Run each statement over its rows, then record the positions, in one transaction."""
        with self.datastore.transaction(commit=True) as curs:
            for statement, rows in statements:
                if rows:
                    curs.executemany(statement, rows)
            self.record(curs, trackings)

    def record_now(self, tracking: Tracking) -> None:
        self.recorder.insert_tracking(tracking)
