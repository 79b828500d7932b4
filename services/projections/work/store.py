"""The work store: the recorded work log, the read models and the tracked positions, in one
PostgreSQL transaction per polled batch."""

from __future__ import annotations

from collections.abc import Iterable

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore
from pydantic import BaseModel

from events.envelope import Envelope, decode, encode
from services.projections.tracking import Positions
from services.projections.work.apply import statements_for

RECORD = (
    "INSERT INTO work_log (event_id, type, envelope) VALUES (%s, %s, %s)"
    " ON CONFLICT (event_id) DO NOTHING RETURNING seq"
)
READ_MODELS = ("work_notes", "customer_profiles", "work_requests", "request_changes", "work_tasks",
               "work_handovers")


class WorkStore:
    """Applies each event the first time it is seen; a redelivery is recorded as nothing."""

    def __init__(self, datastore: PostgresDatastore, positions: Positions) -> None:
        self.datastore = datastore
        self.positions = positions

    def apply(self, events: Iterable[tuple[Envelope, BaseModel]], trackings: list[Tracking]) -> int:
        """Apply the new events of a batch in order; returns how many were new."""
        applied = 0
        with self.datastore.transaction(commit=True) as curs:
            for envelope, payload in events:
                curs.execute(RECORD, (envelope.id, envelope.type, encode(envelope).decode()))
                recorded = curs.fetchone()
                if recorded is None:
                    continue  # already recorded: a redelivery, or the log replayed after a reset
                for statement, params in statements_for(payload, recorded["seq"]):
                    curs.execute(statement, params)  # type: ignore[arg-type]
                applied += 1
            self.positions.record(curs, trackings)
        return applied

    def replay(self) -> int:
        """Empty the read models and apply the recorded log again, in its order (a rebuild)."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(f"TRUNCATE {', '.join(READ_MODELS)}")
            curs.execute("UPDATE customer_contacts SET owner = NULL WHERE owner IS NOT NULL")
            curs.execute("SELECT seq, envelope FROM work_log ORDER BY seq")
            rows = curs.fetchall()
            for row in rows:
                _, payload = decode(row["envelope"].encode())
                for statement, params in statements_for(payload, row["seq"]):
                    curs.execute(statement, params)  # type: ignore[arg-type]
        return len(rows)
