"""The retention worker: on a schedule, removes expired interactions (by channel) from the read
models and destroys their data keys, except those of customers under a legal hold.

With the keys gone, the interactions' copies on the log and in the event store are unreadable,
so a rebuild or a replay skips them too. One transaction per chunk: keys and rows go together.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from eventsourcing.postgres import PostgresDatastore
from psycopg.rows import tuple_row

from events import sealing
from kartoteka.keystore import BUMP, DESTROY
from kartoteka.settings import Settings
from services.projections.retention.policy import cutoffs
from services.projections.runner import TRANSIENT
from services.projections.spec import WorkerSpec
from services.projections.status import write_status

log = logging.getLogger(__name__)
CHUNK = 5000
STATUS_EVERY_S = 1.0
EXPIRED = (
    "SELECT t.interaction_id::text FROM timeline t JOIN customers c ON c.id = t.customer_id"
    " WHERE t.channel = %s AND t.occurred_at < %s AND NOT EXISTS (SELECT FROM legal_holds h"
    " WHERE h.customer_id IN (c.id, coalesce(c.root_id, c.id)) AND h.until > now())"
    " LIMIT %s FOR UPDATE OF t SKIP LOCKED"
)
REMOVE = (
    "DELETE FROM request_interactions WHERE interaction_id = ANY(%s::uuid[])",
    "DELETE FROM timeline WHERE interaction_id = ANY(%s::uuid[])",
)


class Retention:
    """Runs :meth:`sweep` every ``settings.retention_interval_s`` until stopped."""

    name = "retention"

    def __init__(self, settings: Settings, datastore: PostgresDatastore, status_file: Path | None = None) -> None:
        self.settings, self.datastore, self.status_file = settings, datastore, status_file
        self.stopping = threading.Event()
        self.removed = 0

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.sweep(datetime.now(UTC))
            except TRANSIENT as exc:
                # What expired stays expired: the next sweep removes it.
                log.warning("database unreachable; sweeping on the next tick", extra={"error": str(exc)})
            # Between sweeps (an hour by default) the status stays fresh: the supervisor reads
            # a stale one as a worker still draining, and held every shutdown for a minute.
            next_sweep = time.monotonic() + self.settings.retention_interval_s
            while True:
                self._status()
                left = next_sweep - time.monotonic()
                if left <= 0 or self.stopping.wait(min(left, STATUS_EVERY_S)):
                    break

    def sweep(self, now: datetime) -> int:
        """Remove what has expired by ``now``; returns how many interactions went."""
        removed = 0
        for channel, before in cutoffs(self.settings.retention_days(), now):
            while not self.stopping.is_set():
                gone = self._chunk(channel, before)
                removed += gone
                if gone < CHUNK:
                    break
        if removed:
            log.info("retention removed interactions", extra={"removed": removed})
        self.removed += removed
        return removed

    def _chunk(self, channel: str, before: datetime) -> int:
        with self.datastore.transaction(commit=True) as curs, curs.connection.cursor(row_factory=tuple_row) as cur:
            ids = [r[0] for r in cur.execute(EXPIRED, (channel, before, CHUNK)).fetchall()]
            if ids:
                cur.execute(DESTROY, ([sealing.interaction_subject(i) for i in ids],))
                cur.execute(BUMP)
                for statement in REMOVE:
                    cur.execute(statement, (ids,))
        return len(ids)

    def _status(self) -> None:
        if self.status_file is not None:
            write_status(self.status_file, {"projection": self.name, "lag": 0, "processed": self.removed,
                                           "at": time.time()})


# No topic and no read model of its own: it deletes from the timeline's on a schedule.
WORKER = WorkerSpec(name="retention", consumes=(), produces=(), standalone=True, singleton=True,
                    build=lambda ctx: Retention(ctx.settings, ctx.datastore, ctx.status_file),
                    background=True)
