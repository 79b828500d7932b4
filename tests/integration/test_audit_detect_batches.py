"""The detectors worker evaluates a busy employee once per interval, never losing an evaluation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import Tracking

from events.catalog import AlertRaised
from events.envelope import decode
from kartoteka import db
from services.projections.detect.pacing import Pacing
from services.projections.detect.worker import DetectProjection
from services.projections.records import Decoded
from services.projections.tracking import Positions
from tests.support.audit import access, count
from tests.support.workers import wait_until

pytestmark = pytest.mark.integration
PENDING = "SELECT count(*) FROM detect_raised WHERE severity_rank < 0"
POSITION = "detect:access.v1:test:0"


class Batches:
    """Export accesses of one employee, numbered as offsets of one partition."""

    def __init__(self) -> None:
        self.offset = -1
        self.start = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)

    def next(self, exports: int) -> tuple[list[Decoded], list[Tracking]]:
        items = []
        for _ in range(exports):
            self.offset += 1
            at = self.start + timedelta(seconds=self.offset)
            key, value, _ = access("emp-bulk", "customer.export", [f"c-{self.offset}"], at=at)
            envelope, payload = decode(value)
            items.append(Decoded(0, self.offset, key, envelope, payload, "access.v1"))
        return items, [Tracking(POSITION, self.offset)]


def projection(datastore: Any, **options: Any) -> DetectProjection:
    return DetectProjection(datastore, Positions(datastore), **options)


def recorded(dsn: str) -> list[AlertRaised]:
    """The alerts the worker committed to the outbox, in order (the relay publishes them)."""
    with psycopg.connect(dsn) as conn:
        values = conn.execute("SELECT value FROM outbox WHERE topic = 'alerts.v1' ORDER BY seq").fetchall()
    return [decode(bytes(v))[1] for (v,) in values]  # type: ignore[misc]


def test_accesses_between_evaluations_are_evaluated_after_a_crash_by_the_next_start(settings):
    datastore = db.datastore(settings.dsn)
    batches = Batches()
    try:
        first = projection(datastore, evaluate_every_s=3600, start_timer=False)
        first.apply(*batches.next(3))  # evaluated at once: three exports are normal
        first.apply(*batches.next(5))  # eight now, above five: but not due for an hour
        assert recorded(settings.dsn) == []
        assert count(settings.dsn, PENDING) == 1
        # The process dies here; the next one evaluates what the first left pending.
        second = projection(datastore, evaluate_every_s=3600, start_timer=False)
        assert second.flush() == 1
        assert [(a.kind, a.employee_id) for a in recorded(settings.dsn)] == [("bulk_export", "emp-bulk")]
        assert recorded(settings.dsn)[0].evidence["exports"] == 8
        assert count(settings.dsn, PENDING) == 0
        assert second.flush() == 0
    finally:
        datastore.close()


def test_a_deferred_evaluation_happens_without_a_further_batch(settings):
    datastore = db.datastore(settings.dsn)
    batches = Batches()
    try:
        worker = projection(datastore, evaluate_every_s=0.5)
        worker.apply(*batches.next(3))
        worker.apply(*batches.next(5))  # within the interval: deferred, and no batch follows
        wait_until(lambda: recorded(settings.dsn), timeout_s=30, message="the deferred evaluation")
        assert [a.kind for a in recorded(settings.dsn)] == ["bulk_export"]
        wait_until(lambda: count(settings.dsn, PENDING) == 0, message="the mark cleared")
    finally:
        datastore.close()


def test_a_costly_employee_waits_longer_pending_and_marked_then_is_evaluated(settings):
    datastore = db.datastore(settings.dsn)
    batches = Batches()
    now = [0.0]
    try:
        worker = projection(datastore, start_timer=False, clock=lambda: now[0],
                            pacing=Pacing(every_s=1.0, cost_factor=10.0, max_interval_s=30.0))
        detect = worker._detect

        def costly(*args: Any) -> list[AlertRaised]:
            now[0] += 2.0  # as if this employee's history took two seconds to evaluate
            return detect(*args)

        worker._detect = costly  # type: ignore[method-assign]
        worker.apply(*batches.next(3))  # evaluated at once, in 2 s: next due 20 s after
        now[0] += 5.0
        worker.apply(*batches.next(5))  # past the base interval, but not due yet
        assert recorded(settings.dsn) == []
        assert count(settings.dsn, PENDING) == 1
        assert worker.flush() == 0
        now[0] += 14.0
        assert worker.flush() == 0
        now[0] += 1.0
        assert worker.flush() == 1
        assert [(a.kind, a.evidence["exports"]) for a in recorded(settings.dsn)] == [("bulk_export", 8)]
        assert count(settings.dsn, PENDING) == 0
    finally:
        datastore.close()
