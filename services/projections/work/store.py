"""The work store: the recorded work log, the read models and the tracked positions, in one
PostgreSQL transaction per polled batch."""

from __future__ import annotations

from collections.abc import Iterable

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore
from pydantic import BaseModel

from events import sealing
from events.envelope import Envelope, decode, encode
from kartoteka.keystore import KeyRing, fetch_sync
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

    def __init__(self, datastore: PostgresDatastore, positions: Positions, ring: KeyRing | None = None) -> None:
        self.datastore = datastore
        self.positions = positions
        self.ring = ring  # opens the recorded log's sealed events in a replay

    def apply(self, events: Iterable[tuple[Envelope, BaseModel, bytes | None]], trackings: list[Tracking]) -> int:
        """Apply the new events of a batch in order; returns how many were new.

        An event that came sealed is recorded sealed (its customer's erasure shreds it here too).
        """
        applied = 0
        with self.datastore.transaction(commit=True) as curs:
            for envelope, payload, sealed in events:
                text = encode(envelope).decode() if sealed is None else sealing.blob_field(sealed)
                curs.execute(RECORD, (envelope.id, envelope.type, text))
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
            curs.execute("SELECT seq, envelope FROM work_log ORDER BY seq")
            rows = curs.fetchall()
            opened = self._open([row["envelope"] for row in rows])
            for row, value in zip(rows, opened, strict=True):
                if value is None:
                    continue  # shredded: its customer was erased
                _, payload = decode(value)
                for statement, params in statements_for(payload, row["seq"]):
                    curs.execute(statement, params)  # type: ignore[arg-type]
        return len(rows)

    def _open(self, texts: list[str]) -> list[bytes | None]:
        sealed = [sealing.field_blob(t) for t in texts if sealing.is_sealed_field(t)]
        keys: dict[str, bytes] = {}
        if sealed:
            if self.ring is None:
                raise RuntimeError("the work log holds sealed events: replay needs the key ring")
            with self.datastore.get_connection() as conn:
                keys = fetch_sync(self.ring, conn, [sealing.subject_of(b) for b in sealed])
        out: list[bytes | None] = []
        for text in texts:
            if not sealing.is_sealed_field(text):
                out.append(text.encode())
                continue
            blob = sealing.field_blob(text)
            key = keys.get(sealing.subject_of(blob))
            out.append(None if key is None else sealing.unseal(key, blob))
        return out
