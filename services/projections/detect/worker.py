"""Detectors worker: access.v1 -> the employee's recent stream -> new alerts on alerts.v1.

Per polled batch, in one transaction: keep the new accesses, evaluate the employees the
batch touches over their recent history, write the alerts not raised before to the outbox,
remember them as raised, record the tracked positions. The relay publishes the outbox once
committed; alert ids are deterministic, and alerts.v1's consumers upsert by id.

An evaluation reads and scans the employee's whole look-back, so an employee is evaluated
at most once every ``evaluate_every_s``, and an employee whose evaluations are costly (a
long history) less often still (see ``pacing``): a busy employee's accesses of the meantime
are stored at once and evaluated together at the next due evaluation (by the next batch, or
by a timer when none comes). Until then the employee is marked pending in the same
transaction as the accesses, so a crash or a stop in between loses no evaluation: the next
start evaluates every marked employee first.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor

from events import topics
from events.audit.records import alert_record
from events.catalog import AccessRecorded, AlertRaised
from kartoteka import outbox
from services.projections.detect import store
from services.projections.detect.detectors import DEFAULT_CONFIG, Access, Alert, DetectorConfig
from services.projections.detect.detectors.config import with_overrides
from services.projections.detect.evaluate import (
    HORIZON,
    evaluate,
    history_start,
    span_of,
    to_event,
    unraised,
)
from services.projections.detect.pacing import EVERY_S, Pacing, Schedule
from services.projections.records import Decoded
from services.projections.spec import IDLE_FETCH_WAIT_MS, Context, WorkerSpec
from services.projections.tracking import Positions

log = logging.getLogger(__name__)
SOURCE = "kartoteka/detect"
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

    def __init__(
        self,
        datastore: PostgresDatastore,
        positions: Positions,
        cfg: DetectorConfig = DEFAULT_CONFIG,
        evaluate_every_s: float = EVERY_S,
        start_timer: bool = True,
        pacing: Pacing | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.datastore = datastore
        self.positions = positions
        self.cfg = cfg
        self.history = store.History("detect_accesses")
        self.pacing = pacing or Pacing(every_s=evaluate_every_s)
        self.evaluate_every_s = self.pacing.every_s
        self._pruned_at = 0.0
        # Accesses stored but not evaluated yet, by employee; changed only after a commit.
        self._pending: dict[str, list[Access]] = {}
        self._schedule = Schedule(self.pacing, clock)
        self._recovered = False
        self._lock = threading.Lock()  # the runner's batches and the timer's evaluations
        self._timer: threading.Thread | None = None
        if start_timer:
            self._start_timer()

    def apply(self, items: list[Decoded], trackings: list[Tracking]) -> None:
        rows = [row for row in map(to_access, items) if row is not None]
        with self._lock:
            with self.datastore.transaction(commit=True) as curs:
                staged = self._staged(curs)
                store.insert_accesses(curs, rows)
                arrived: dict[str, list[Access]] = defaultdict(list)
                for _, access in rows:
                    arrived[access.employee_id].append(access)
                for employee_id, new in arrived.items():
                    staged[employee_id] = staged.get(employee_id, []) + new
                due = self._schedule.due(staged)
                took = self._evaluate(curs, staged, due)
                # Deferred employees are marked with the earliest access the mark must cover.
                store.mark_pending(curs, {
                    e: min(a.at for a in new) for e, new in arrived.items() if e not in due
                })
                self.positions.record(curs, trackings)
                self._maybe_prune(curs)
            self._committed(staged, took)

    def flush(self, force: bool = False) -> int:
        """Evaluate the pending employees that are due (all of them with ``force``); after a
        start, first those a crash or a stop left marked."""
        with self._lock:
            if self._recovered:
                due = set(self._pending) if force else self._schedule.due(self._pending)
                if not due:
                    return 0
            with self.datastore.transaction(commit=True) as curs:
                staged = self._staged(curs)
                due = set(staged) if force else self._schedule.due(staged)
                took = self._evaluate(curs, staged, due)
            self._committed(staged, took)
            return len(took)

    def _staged(self, curs: Cursor[Any]) -> dict[str, list[Access]]:
        """The pending accesses; after a start, those of the employees left marked as well
        (never evaluated by this process, so due at once, in this transaction)."""
        staged = dict(self._pending)
        if not self._recovered:
            far = datetime.max.replace(tzinfo=UTC)
            for employee_id, since in store.pending(curs).items():
                found = self.history.accesses(curs, employee_id, since, far)
                if found:
                    staged[employee_id] = found + staged.get(employee_id, [])
            store.clear_all_pending(curs)
        return staged

    def _evaluate(
        self, curs: Cursor[Any], staged: dict[str, list[Access]], due: set[str]
    ) -> dict[str, float]:
        """Evaluate the due employees; how long each evaluation took, which paces the next."""
        took: dict[str, float] = {}
        if not due:
            return took
        raised: list[AlertRaised] = []
        clock = self._schedule.clock
        for employee_id in sorted(due):
            started = clock()
            with _without_cycle_collection():
                raised.extend(self._detect(curs, employee_id, staged[employee_id]))
            took[employee_id] = clock() - started
        outbox.write(curs, [alert_record(a, SOURCE) for a in raised], WORKER.name)
        store.clear_pending(curs, due)
        return took

    def _committed(self, staged: dict[str, list[Access]], took: dict[str, float]) -> None:
        self._pending = {e: new for e, new in staged.items() if e not in took}
        self._schedule.evaluated(took)
        self._recovered = True

    def _start_timer(self) -> None:
        if self._timer is None:
            self._timer = threading.Thread(target=self._tick, name="detect-timer", daemon=True)
            self._timer.start()

    def _tick(self) -> None:
        """Evaluate deferred employees whose next batch does not come (a quiet hour, a stop)."""
        while True:
            time.sleep(self.evaluate_every_s / 4)
            try:
                self.flush()
            except Exception as exc:  # noqa: BLE001 - they stay pending and marked
                if self._closed():
                    return  # the worker is stopping; the marks get them evaluated on start
                log.warning("deferred evaluation failed; retrying", extra={"error": str(exc)})

    def _closed(self) -> bool:
        return bool(getattr(getattr(self.datastore, "pool", None), "closed", False))

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

    def _maybe_prune(self, curs: Cursor[Any]) -> None:
        if time.monotonic() - self._pruned_at > PRUNE_EVERY_S:
            self._pruned_at = time.monotonic()
            store.prune(curs, datetime.now(UTC) - RETENTION)


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Pause the cycle collector for one evaluation: the objects it builds would trigger full
    collections that rescan them all (bench/README.md). An evaluation makes no cycles of its
    own, and a cycle made meanwhile by another thread waits for the next run."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _build(ctx: Context) -> DetectProjection:
    return DetectProjection(ctx.datastore, ctx.positions, with_overrides(ctx.settings.detectors))


WORKER = WorkerSpec(
    name="detect", consumes=(topics.ACCESS,), produces=(topics.ALERTS,), build=_build,
    read_model=("detect_accesses", "detect_raised"), after=("employees", "timeline"),
    fetch_max_wait_ms=IDLE_FETCH_WAIT_MS, background=True,
)
