"""Employees projection worker: employees.v1 -> the employees read model."""

from __future__ import annotations

from eventsourcing.persistence import Tracking

from events import topics
from events.catalog import EmployeeStatusChanged
from services.projections.employees.store import EmployeeStore, employee_row
from services.projections.records import Decoded
from services.projections.spec import IDLE_FETCH_WAIT_MS, WorkerSpec


class EmployeeProjection:
    """Each status change updates one employee row, in log (per-employee) order."""

    def __init__(self, store: EmployeeStore) -> None:
        self.store = store

    def apply(self, items: list[Decoded], trackings: list[Tracking]) -> None:
        rows = [
            employee_row(d.payload) for d in items if isinstance(d.payload, EmployeeStatusChanged)
        ]
        self.store.apply(rows, trackings)


WORKER = WorkerSpec(
    name="employees", consumes=(topics.EMPLOYEES,), produces=(), read_model=("employees",),
    build=lambda ctx: EmployeeProjection(EmployeeStore(ctx.datastore, ctx.positions)),
    fetch_max_wait_ms=IDLE_FETCH_WAIT_MS,
)
