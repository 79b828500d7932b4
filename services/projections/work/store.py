"""The work store: the events seen, the read models and the tracked positions, in one
PostgreSQL transaction per polled batch."""

from __future__ import annotations

from collections.abc import Iterable

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore
from pydantic import BaseModel

from events.envelope import Envelope
from services.projections.tracking import Positions
from services.projections.work.apply import statements_for

# work_log holds the id of every event applied: a POST retried with the same Idempotency-Key
# reaches the log twice under one id, and must not apply twice (a later change would be undone).
SEEN = "INSERT INTO work_log (event_id, type) VALUES (%s, %s) ON CONFLICT (event_id) DO NOTHING RETURNING 1"
READ_MODELS = ("work_log", "work_notes", "customer_profiles", "work_requests", "request_changes", "work_tasks",
               "work_handovers")


class WorkStore:
    """Applies each event the first time its id is seen."""

    def __init__(self, datastore: PostgresDatastore, positions: Positions) -> None:
        self.datastore = datastore
        self.positions = positions

    def apply(self, events: Iterable[tuple[Envelope, BaseModel, int]], trackings: list[Tracking]) -> int:
        """Apply the new events of a batch in order; returns how many were new."""
        applied = 0
        with self.datastore.transaction(commit=True) as curs:
            for envelope, payload, offset in events:
                curs.execute(SEEN, (envelope.id, envelope.type))
                if curs.fetchone() is None:
                    continue
                for statement, params in statements_for(payload, offset):
                    curs.execute(statement, params)  # type: ignore[arg-type]
                applied += 1
            self.positions.record(curs, trackings)
        return applied
