"""Card + timeline projection worker."""

from __future__ import annotations

from eventsourcing.persistence import Tracking

from events import topics
from services.projections.records import Decoded
from services.projections.spec import Context, WorkerSpec
from services.projections.timeline.apply import rows_of
from services.projections.timeline.direct_decode import Digest, digest
from services.projections.timeline.reports import REPORT_PROJECTIONS
from services.projections.timeline.store import TimelineStore


class TimelineProjection:
    """customers.v1 -> customers, customer_identifiers, timeline."""

    def __init__(self, store: TimelineStore, batch_max_records: int | None = None) -> None:
        self.store = store
        self.batch_max_records = batch_max_records

    def apply(self, items: list[Decoded], trackings: list[Tracking]) -> None:
        self.store.write(rows_of(items), trackings)

    def digest(self, raw: bytes | None) -> Digest | None:
        return digest(raw)


def _build(ctx: Context) -> TimelineProjection:
    return TimelineProjection(TimelineStore(ctx.datastore, ctx.positions),
                              ctx.settings.timeline_batch_max_records)


WORKER = WorkerSpec(
    name="timeline", consumes=(topics.CUSTOMERS,), produces=(), build=_build,
    read_model=("customers", "customer_identifiers", "customer_names", "timeline", "customer_history",
                *REPORT_PROJECTIONS),
    shares=lambda s: (min(s.timeline_processes, s.partitions), s.timeline_share_backlog),
)
