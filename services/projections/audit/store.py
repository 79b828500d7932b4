"""The audit trail store: access rows and tracked positions in one Postgres transaction."""

from __future__ import annotations

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore

from services.projections.tracking import Positions

INSERT_ACCESS = (
    "INSERT INTO access_log (id, employee_id, role, action, customer_ids, at, request_id, client,"
    " route, query) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING"
)


class AccessStore:
    """Appends access records; a redelivered access event is recorded once."""

    def __init__(self, datastore: PostgresDatastore, positions: Positions) -> None:
        self.datastore = datastore
        self.positions = positions

    def append(self, rows: list[tuple[object, ...]], trackings: list[Tracking]) -> None:
        with self.datastore.transaction(commit=True) as curs:
            if rows:
                curs.executemany(INSERT_ACCESS, rows)
            self.positions.record(curs, trackings)
