"""How a worker declares itself once: what it reads, writes and owns, and how it is built.

Every worker package ends its ``worker.py`` with one ``WorkerSpec``; ``registry.WORKERS``
lists them, and the supervisor, ``kartoteka worker``, ``kartoteka rebuild`` and the tests
read nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from eventsourcing.postgres import PostgresDatastore

from events import topics
from kartoteka.settings import Settings
from services.projections.tracking import Positions

# For the audit side (access trail, detectors, alerts, employee status), whose readers can
# wait half a second: idle workers poll the broker less (bench/README.md).
IDLE_FETCH_WAIT_MS = 500


@dataclass(frozen=True)
class Context:
    """What a worker is built from: one process's settings, datastore and positions."""

    settings: Settings
    datastore: PostgresDatastore
    positions: Positions
    status_file: Path | None = None


class Standalone(Protocol):
    """A worker that runs its own loop (the relay) instead of the shared consumer runner."""

    stopping: Any

    def run(self) -> None: ...


@dataclass(frozen=True)
class WorkerSpec:
    """One worker: its name, topics in and out, what it builds, and the tables it owns.

    ``build`` returns the projection the shared runner drives (its ``apply`` writes rows and
    positions in one transaction), or, with ``standalone``, a loop of its own. ``read_model``
    lists the tables ``kartoteka rebuild`` empties and fills again from ``consumes``; a worker
    whose tables are a record of truth (the identity log, the audit trail) lists none.
    """

    name: str
    consumes: tuple[str, ...]
    produces: tuple[str, ...]
    build: Callable[[Context], Any]
    read_model: tuple[str, ...] = ()
    # Workers whose read models this one consults while applying: a rebuild refills those first.
    after: tuple[str, ...] = ()
    dead_letter: str = topics.INTERACTIONS_DLQ
    # Readers of an idle topic that can wait poll it less often (each empty fetch costs CPU
    # in the worker and in the broker).
    fetch_max_wait_ms: int | None = None
    standalone: bool = False
    # One process at a time, whatever the count started: the others wait as standbys and
    # take over when it dies (services/projections/claims.py). Others share the partitions.
    singleton: bool = False
    # (processes, backlog): up to that many processes share the partitions while the worker
    # is at least ``backlog`` records behind; one process otherwise.
    shares: Callable[[Settings], tuple[int, int]] = lambda _settings: (1, 0)
    # Off the path from a 202 to the card and timeline (duplicates, detectors, anchor, ...):
    # it runs at KARTOTEKA_BACKGROUND_NICE, so under a backlog the path gets the cores first.
    background: bool = False

    def niceness(self, settings: Settings) -> int:
        """How much lower than the process starting it this worker runs (``os.nice``)."""
        return settings.background_nice if self.background else settings.worker_nice
