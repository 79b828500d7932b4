"""Employees projection worker: employees.v1 -> the employees read model."""

from __future__ import annotations

from eventsourcing.persistence import Tracking

from events import topics
from events.catalog import EmployeeStatusChanged
from services.projections.employees.store import EmployeeStore, employee_row
from services.projections.runner import IDLE_FETCH_WAIT_MS, Decoded


class EmployeeProjection:
    """Each status change updates one employee row, in log (per-employee) order."""

    name = "employees"
    topic = topics.EMPLOYEES
    fetch_max_wait_ms = IDLE_FETCH_WAIT_MS

    def __init__(self, store: EmployeeStore) -> None:
        self.store = store

    def apply(self, items: list[Decoded], trackings: list[Tracking]) -> None:
        rows = [
            employee_row(d.payload) for d in items if isinstance(d.payload, EmployeeStatusChanged)
        ]
        self.store.apply(rows, trackings)
