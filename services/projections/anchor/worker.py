"""Anchor worker: copies the signed head of the audit chain out of the database it protects,
into an append-only file in the data dir (``Settings.anchor_path``).

Every ``anchor_every_s`` it reads the committed head and appends it (fsync'd) when it moved
on. It never writes a head whose signature does not verify (forged in the database) nor one
behind the last anchor (the database went back in time): those are logged as errors and left
for ``/v1/audit/verify`` to report. The file is its own position: a restart resumes from its
last line. The signed checkpoints also reach ``audit.checkpoints.v1`` through the outbox.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from eventsourcing.postgres import PostgresDatastore

from events.audit.anchor import Anchor, read
from events.audit.chain import Checkpoint, verify_checkpoint
from events.audit.trail import CHAIN, checkpoint_key
from services.projections.runner import TRANSIENT
from services.projections.spec import Context, WorkerSpec
from services.projections.status import write_status

log = logging.getLogger(__name__)
HEAD = "SELECT seq, hash, signature FROM audit_chain_head WHERE chain = %s"


class AnchorWriter:
    """Appends the chain head to the anchor file whenever it moved on."""

    name = "anchor"

    def __init__(self, datastore: PostgresDatastore, path: Path, key: bytes, every_s: float = 1.0,
                 status_file: Path | None = None) -> None:
        self.datastore, self.path, self.key, self.every_s = datastore, path, key, every_s
        self.status_file = status_file
        self.stopping = threading.Event()
        self.anchored = 0
        # What the supervisor and a rebuild read of every standalone worker: never behind.
        self.lag, self.status_at = 0, 0.0

    def run(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        last = self._last_seq()
        while not self.stopping.is_set():
            try:
                last = self.anchor_once(last)
            except TRANSIENT as exc:
                # The head stays in the database: the next tick anchors it. Dying here would
                # leave the chain unanchored until the supervisor restarts the worker.
                log.warning("database unreachable; anchoring on the next tick", extra={"error": str(exc)})
            self.status_at = time.time()
            if self.status_file is not None:
                write_status(self.status_file, {"projection": self.name, "lag": 0,
                                                "processed": self.anchored, "at": self.status_at})
            self.stopping.wait(self.every_s)

    def anchor_once(self, last: int) -> int:
        """Anchor the head if it is new; the seq anchored last."""
        head = self._head()
        if head is None or head.seq == 0 or head.seq == last:
            return last
        if not verify_checkpoint(head, self.key):
            log.error("audit chain head has a bad signature; not anchored", extra={"seq": head.seq})
            return last
        if head.seq < last:
            log.error("audit chain head is behind its anchor: the database went back",
                      extra={"head_seq": head.seq, "anchored_seq": last})
            return last
        with self.path.open("a", encoding="utf-8") as file:
            file.write(Anchor(CHAIN, head, datetime.now(UTC)).line())
            file.flush()
            os.fsync(file.fileno())
        self.anchored += 1
        return head.seq

    def _head(self) -> Checkpoint | None:
        with self.datastore.transaction(commit=False) as curs:
            row = curs.execute(HEAD, (CHAIN,)).fetchone()
        return Checkpoint(row["seq"], row["hash"], row["signature"]) if row else None

    def _last_seq(self) -> int:
        if not self.path.exists():
            return 0
        latest = read(self.path.read_text(encoding="utf-8"), CHAIN, self.key).latest
        return latest.checkpoint.seq if latest else 0


def _build(ctx: Context) -> AnchorWriter:
    settings = ctx.settings
    return AnchorWriter(ctx.datastore, settings.anchor_path, checkpoint_key(settings.secret),
                        settings.anchor_every_s, ctx.status_file)


# The file is the record: nothing in the database to rebuild.
WORKER = WorkerSpec(name="anchor", consumes=(), produces=(), build=_build, standalone=True,
                    singleton=True, background=True)
