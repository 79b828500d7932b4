"""Card + timeline projection worker."""

from __future__ import annotations

from eventsourcing.persistence import Tracking

from events import topics
from services.projections.runner import Decoded
from services.projections.timeline.apply import rows_of
from services.projections.timeline.direct_decode import Digest, digest
from services.projections.timeline.store import TimelineStore


class TimelineProjection:
    """customers.v1 -> customers, customer_identifiers, timeline."""

    name = "timeline"
    topic = topics.CUSTOMERS

    def __init__(self, store: TimelineStore, batch_max_records: int | None = None) -> None:
        self.store = store
        self.batch_max_records = batch_max_records

    def apply(self, items: list[Decoded], trackings: list[Tracking]) -> None:
        self.store.write(rows_of(items), trackings)

    def digest(self, raw: bytes | None) -> Digest | None:
        return digest(raw)
