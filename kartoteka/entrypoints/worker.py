"""``kartoteka worker <name>``: one registered worker as this process (or as its shares)."""

from __future__ import annotations

import logging
import signal

from kartoteka import db
from kartoteka.entrypoints.operate import name_process
from kartoteka.settings import Settings
from services.projections import registry
from services.projections.spec import Context
from services.projections.status import status_file
from services.projections.tracking import Positions
from services.projections.worker_processes import run_shares, share_name

log = logging.getLogger(__name__)


def run_worker(name: str, settings: Settings, share: tuple[int, int] | None = None) -> None:
    """Run one worker until SIGTERM/SIGINT; the supervisor restarts it if it crashes.

    A worker whose spec allows it runs as several processes while it has a backlog, each
    owning a share of the partitions (``share``: its index and the count).
    """
    spec = registry.spec_of(name)
    most, backlog = spec.shares(settings)
    if share is None and most > 1:
        topics = [settings.topic(t) for t in spec.consumes]
        if run_shares(name, topics, settings, most, backlog, status_file(settings, name), run_worker):
            raise SystemExit(1)
        return
    if share is not None:
        name_process(f"kartoteka worker {name} share {share[0] + 1}/{share[1]}")
    datastore = db.datastore(settings.dsn, pool_size=2)
    try:
        status = status_file(settings, name if share is None else share_name(name, share[0]))
        worker = registry.runnable(spec, Context(settings, datastore, Positions(datastore), status),
                                   share or (0, 1))
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: worker.stopping.set())
        worker.run()
    finally:
        datastore.close()
        log.info("worker stopped", extra={"worker": name})
