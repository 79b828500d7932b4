"""Work projection worker: work.commands.v1 -> the work read models (see ``store``)."""

from __future__ import annotations

import logging

from eventsourcing.persistence import Tracking

from events import topics
from events import work as _work  # noqa: F401  (registers the work event types)
from kartoteka.keystore import KeyRing, master_key
from services.projections.records import Decoded
from services.projections.spec import IDLE_FETCH_WAIT_MS, Context, WorkerSpec
from services.projections.work.store import WorkStore

log = logging.getLogger(__name__)


class WorkProjection:
    """Employees' writes, in log (per-customer) order, each applied once."""

    def __init__(self, store: WorkStore) -> None:
        self.store = store

    def apply(self, items: list[Decoded], trackings: list[Tracking]) -> None:
        applied = self.store.apply(((d.envelope, d.payload, d.sealed) for d in items), trackings)
        if applied:
            log.info("work applied", extra={"events": applied, "records": len(items)})


def _build(ctx: Context) -> WorkProjection:
    return WorkProjection(WorkStore(ctx.datastore, ctx.positions, KeyRing(master_key(ctx.settings))))


# The work log is its record of truth (WorkStore.replay refills the read models from it).
WORKER = WorkerSpec(name="work", consumes=(topics.WORK_COMMANDS,), produces=(), build=_build,
                    fetch_max_wait_ms=IDLE_FETCH_WAIT_MS)
