"""Work projection worker: work.commands.v1 -> the work read models (see ``store``)."""

from __future__ import annotations

import logging

from eventsourcing.persistence import Tracking

from events import topics
from events import work as _work  # noqa: F401  (registers the work event types)
from services.projections.records import Decoded
from services.projections.spec import IDLE_FETCH_WAIT_MS, WorkerSpec
from services.projections.work.store import READ_MODELS, WorkStore

log = logging.getLogger(__name__)


class WorkProjection:
    """Employees' writes, in log (per-customer) order, each applied once."""

    def __init__(self, store: WorkStore) -> None:
        self.store = store

    def apply(self, items: list[Decoded], trackings: list[Tracking]) -> None:
        applied = self.store.apply(((d.envelope, d.payload, d.offset) for d in items), trackings)
        if applied:
            log.info("work applied", extra={"events": applied, "records": len(items)})


WORKER = WorkerSpec(
    name="work", consumes=(topics.WORK_COMMANDS,), produces=(), read_model=READ_MODELS,
    build=lambda ctx: WorkProjection(WorkStore(ctx.datastore, ctx.positions)),
    # A request opened from an interaction takes its channel and thread from the timeline.
    after=("timeline",), fetch_max_wait_ms=IDLE_FETCH_WAIT_MS,
)
