"""Detectors worker: access.v1 -> the employee's recent stream -> new alerts on alerts.v1.

Per polled batch, in one transaction: keep the new accesses, evaluate every employee the
batch touches over their recent history, produce the alerts not raised before (and wait for
Kafka's acknowledgement), remember them as raised, record the tracked positions. A crash
before the commit produces the same alerts again with the same ids: alerts.v1 is
at-least-once, and its consumers upsert by id.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore
from kafka.errors import KafkaError
from psycopg import Cursor

from events import topics
from events.catalog import AccessRecorded, AlertRaised
from services.projections.audit.detectors import DEFAULT_CONFIG, Access, Alert, DetectorConfig
from services.projections.detect import store
from services.projections.detect.evaluate import (
    HORIZON,
    evaluate,
    history_start,
    span_of,
    to_event,
    unraised,
)
from services.projections.runner import Decoded
from services.projections.tracking import Positions

log = logging.getLogger(__name__)
Publish = Callable[[Sequence[AlertRaised]], None]
RETENTION = timedelta(days=60)
PRUNE_EVERY_S = 600.0


def to_access(decoded: Decoded) -> tuple[str, Access] | None:
    """The detectors' view of an access event (naive times read as UTC), with its event id."""
    event = decoded.payload
    if not isinstance(event, AccessRecorded):
        return None
    at = event.at if event.at.tzinfo is not None else event.at.replace(tzinfo=UTC)
    access = Access(event.employee_id, event.action, tuple(event.customer_ids), at,
                    event.query, decoded.offset)
    return decoded.envelope.id, access


class DetectProjection:
    """Runs the pure detectors over each employee's recent accesses as they arrive."""

    name = "detect"
    topic = topics.ACCESS

    def __init__(
        self,
        datastore: PostgresDatastore,
        positions: Positions,
        publish: Publish,
        cfg: DetectorConfig = DEFAULT_CONFIG,
        publish_attempts: int = 6,
    ) -> None:
        self.datastore = datastore
        self.positions = positions
        self.publish = publish
        self.cfg = cfg
        self.history = store.History("detect_accesses")
        self.publish_attempts = publish_attempts
        self._pruned_at = 0.0

    def apply(self, items: list[Decoded], trackings: list[Tracking]) -> None:
        rows = [row for row in map(to_access, items) if row is not None]
        with self.datastore.transaction(commit=True) as curs:
            store.insert_accesses(curs, rows)
            by_employee: dict[str, list[Access]] = defaultdict(list)
            for _, access in rows:
                by_employee[access.employee_id].append(access)
            raised: list[AlertRaised] = []
            for employee_id, new in by_employee.items():
                raised.extend(self._detect(curs, employee_id, new))
            self._publish(raised)
            self.positions.record(curs, trackings)
            self._maybe_prune(curs)

    def _detect(self, curs: Cursor[Any], employee_id: str, new: list[Access]) -> list[AlertRaised]:
        # Known customers: the agent's interactions over the whole look-back, a day either side.
        day = timedelta(days=1)
        first, last = min(a.at for a in new), max(a.at for a in new)
        ctx = self.history.context(curs, employee_id, first - HORIZON - day, last + day)
        span = span_of(new, ctx)
        since = history_start(span)
        history = self.history.accesses(curs, employee_id, since, span[1])
        peers = self.history.peers(curs, ctx, since, span[1], self.cfg)
        alerts: list[Alert] = evaluate(history, ctx, span, self.cfg, peers=peers)
        fresh = unraised(alerts, store.raised_ranks(curs, alerts))
        store.mark_raised(curs, fresh)
        return [to_event(alert, history) for alert in fresh]

    def _publish(self, alerts: list[AlertRaised]) -> None:
        """Retry a broker hiccup here: the runner would dead-letter the batch instead."""
        for attempt in range(1, self.publish_attempts + 1):
            try:
                self.publish(alerts)
                return
            except KafkaError as exc:
                if attempt == self.publish_attempts:
                    raise
                log.warning("alerts not acknowledged; retrying",
                            extra={"attempt": attempt, "error": str(exc)})
                time.sleep(min(0.5 * 2**attempt, 10))

    def _maybe_prune(self, curs: Cursor[Any]) -> None:
        if time.monotonic() - self._pruned_at > PRUNE_EVERY_S:
            self._pruned_at = time.monotonic()
            store.prune(curs, datetime.now(UTC) - RETENTION)
