"""Tracked Kafka positions in Postgres (eventsourcing ``Tracking``), the truth a worker resumes from.

A position is named ``<worker>:<topic>:<topic id>:<partition>`` and its notification id is
the last processed offset. The topic id changes when a topic is recreated (an in-memory
broker restarted), so a reset log gets a fresh name instead of a stale position that
would skip its new records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import psycopg
from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg import Cursor

from kartoteka import db

SELECT_POSITIONS = (f"SELECT application_name, notification_id FROM {db.TRACKING_TABLE}"  # noqa: S608
                    " WHERE application_name = ANY(%s)")


def position_name(worker: str, topic: str, topic_id: str, partition: int) -> str:
    return f"{worker}:{topic}:{topic_id}:{partition}"


def tracked(dsn: str, names: list[str]) -> dict[str, int]:
    """The positions recorded under ``names`` (absent: none yet), on a connection of its own."""
    with psycopg.connect(dsn) as conn:
        return dict(conn.execute(SELECT_POSITIONS, (names,)).fetchall())


class Positions:
    """Reads positions, and writes them inside a caller's transaction."""

    def __init__(self, datastore: PostgresDatastore) -> None:
        self.recorder = PostgresTrackingRecorder(datastore, tracking_table_name=db.TRACKING_TABLE)
        self.datastore = datastore

    def get(self, names: Iterable[str]) -> dict[str, int | None]:
        wanted = list(names)
        with self.datastore.get_connection() as conn:
            rows = conn.execute(SELECT_POSITIONS, (wanted,)).fetchall()
        found = {r["application_name"]: r["notification_id"] for r in rows}
        return {name: found.get(name) for name in wanted}

    def record(self, curs: Cursor[Any], trackings: Iterable[Tracking]) -> None:
        for tracking in trackings:
            self.recorder._insert_tracking(curs, tracking)  # noqa: SLF001 - same txn by design

    def record_pipelined(self, curs: Cursor[Any], trackings: Sequence[Tracking]) -> Callable[[], None]:
        """Queue the positions in the caller's pipeline; call the result once it has synced.

        The recorder's own statement, so a position still never moves backwards: a tracking
        row it refuses to advance fails the transaction, as ``record`` does.
        """
        if not self.datastore.single_row_tracking:  # no RETURNING to check: one at a time
            self.record(curs, trackings)
            return lambda: None
        return queue_positions(curs, self.recorder.insert_tracking_statement, trackings)

    def commit(self, statements: Iterable[tuple[str, Sequence[Any]]], trackings: Iterable[Tracking]) -> None:
        """Run each statement over its rows, then record the positions, in one transaction.

        Pipelined: one round trip for all of it, where each position cost one of its own.
        """
        with self.datastore.transaction(commit=True) as curs:
            with curs.connection.pipeline():
                for statement, rows in statements:
                    if rows:
                        curs.executemany(statement, rows)
                recorded = self.record_pipelined(curs.connection.cursor(), list(trackings))
            recorded()

    def record_now(self, tracking: Tracking) -> None:
        self.recorder.insert_tracking(tracking)


def queue_positions(curs: Cursor[Any], statement: Any, trackings: Sequence[Tracking]) -> Callable[[], None]:
    """Queue single-row tracking upserts (``statement``, the recorder's) in the caller's pipeline;
    the result, called once the pipeline has synced, fails unless every position advanced."""
    if not trackings:
        return lambda: None
    params = [{"application_name": t.application_name, "notification_id": t.notification_id}
              for t in trackings]
    curs.executemany(statement, params, returning=True)

    def verify() -> None:
        for number, tracking in enumerate(trackings):
            if number and not curs.nextset():
                raise IntegrityError(f"no result recording {tracking.application_name}")
            if curs.fetchone() is None:
                raise IntegrityError(
                    f"Failed to record tracking for {tracking.application_name}"
                    f" {tracking.notification_id}"
                )

    return verify


def names_starting(curs: Cursor[Any], prefix: str) -> list[str]:
    """Every position name that starts with ``prefix`` (a worker's, for one topic)."""
    curs.execute(f"SELECT application_name FROM {db.TRACKING_TABLE}"  # noqa: S608
                 " WHERE starts_with(application_name, %s)", (prefix,))
    return [row["application_name"] for row in curs.fetchall()]


def forget(curs: Cursor[Any], prefixes: list[str]) -> None:
    """Delete every position whose name starts with one of ``prefixes``: replay from the start."""
    curs.execute(f"DELETE FROM {db.TRACKING_TABLE}"  # noqa: S608
                 " WHERE EXISTS (SELECT FROM unnest(%s::text[]) AS p(prefix)"
                 "  WHERE starts_with(application_name, p.prefix))", (prefixes,))
