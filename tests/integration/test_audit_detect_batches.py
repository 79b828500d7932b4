"""The detectors worker evaluates a busy employee once per interval, never losing an evaluation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

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


def projection(datastore: Any, published: list[AlertRaised], **options: Any) -> DetectProjection:
    return DetectProjection(datastore, Positions(datastore), published.extend, **options)


def test_accesses_between_evaluations_are_evaluated_after_a_crash_by_the_next_start(settings):
    datastore = db.datastore(settings.dsn)
    published: list[AlertRaised] = []
    batches = Batches()
    try:
        first = projection(datastore, published, evaluate_every_s=3600, start_timer=False)
        first.apply(*batches.next(3))  # evaluated at once: three exports are normal
        first.apply(*batches.next(5))  # eight now, above five: but not due for an hour
        assert published == []
        assert count(settings.dsn, PENDING) == 1
        # The process dies here; the next one evaluates what the first left pending.
        second = projection(datastore, published, evaluate_every_s=3600, start_timer=False)
        assert second.flush() == 1
        assert [(a.kind, a.employee_id) for a in published] == [("bulk_export", "emp-bulk")]
        assert published[0].evidence["exports"] == 8
        assert count(settings.dsn, PENDING) == 0
        assert second.flush() == 0
    finally:
        datastore.close()


def test_a_deferred_evaluation_happens_without_a_further_batch(settings):
    datastore = db.datastore(settings.dsn)
    published: list[AlertRaised] = []
    batches = Batches()
    try:
        worker = projection(datastore, published, evaluate_every_s=0.5)
        worker.apply(*batches.next(3))
        worker.apply(*batches.next(5))  # within the interval: deferred, and no batch follows
        wait_until(lambda: published, timeout_s=30, message="the deferred evaluation")
        assert [a.kind for a in published] == ["bulk_export"]
        wait_until(lambda: count(settings.dsn, PENDING) == 0, message="the mark cleared")
    finally:
        datastore.close()


def test_a_costly_employee_waits_longer_pending_and_marked_then_is_evaluated(settings):
    datastore = db.datastore(settings.dsn)
    published: list[AlertRaised] = []
    batches = Batches()
    now = [0.0]
    try:
        worker = projection(datastore, published, start_timer=False, clock=lambda: now[0],
                            pacing=Pacing(every_s=1.0, cost_factor=10.0, max_interval_s=30.0))
        detect = worker._detect

        def costly(*args: Any) -> list[AlertRaised]:
            now[0] += 2.0  # as if this employee's history took two seconds to evaluate
            return detect(*args)

        worker._detect = costly  # type: ignore[method-assign]
        worker.apply(*batches.next(3))  # evaluated at once, in 2 s: next due 20 s after
        now[0] += 5.0
        worker.apply(*batches.next(5))  # past the base interval, but not due yet
        assert published == []
        assert count(settings.dsn, PENDING) == 1
        assert worker.flush() == 0
        now[0] += 14.0
        assert worker.flush() == 0
        now[0] += 1.0
        assert worker.flush() == 1
        assert [(a.kind, a.evidence["exports"]) for a in published] == [("bulk_export", 8)]
        assert count(settings.dsn, PENDING) == 0
    finally:
        datastore.close()
