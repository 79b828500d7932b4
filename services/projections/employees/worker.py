"""Employees projection worker: employees.v1 -> the employees read model."""

from __future__ import annotations

import logging

from eventsourcing.persistence import Tracking

from events import topics
from events.catalog import EmployeeStatusChanged
from services.projections.employees.store import EmployeeStore, employee_row
from services.projections.records import Decoded
from services.projections.spec import IDLE_FETCH_WAIT_MS, WorkerSpec

log = logging.getLogger(__name__)


class EmployeeProjection:
    """Each status change updates one employee row, in log (per-employee) order."""

    def __init__(self, store: EmployeeStore) -> None:
        self.store = store

    def apply(self, items: list[Decoded], trackings: list[Tracking]) -> None:
        changes = [d.payload for d in items if isinstance(d.payload, EmployeeStatusChanged)]
        self.store.apply([employee_row(c) for c in changes], trackings)
        for change in changes:  # committed: one line each
            log.info("employee status changed", extra={
                "employee_id": change.employee_id, "status": change.status, "team": change.team,
                "effective_at": change.effective_at, "changed_by": change.changed_by})


WORKER = WorkerSpec(
    name="employees", consumes=(topics.EMPLOYEES,), produces=(), read_model=("employees",),
    build=lambda ctx: EmployeeProjection(EmployeeStore(ctx.datastore, ctx.positions)),
    fetch_max_wait_ms=IDLE_FETCH_WAIT_MS,
)
