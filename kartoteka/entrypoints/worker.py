"""``kartoteka worker <name>``: one registered worker as this process (or as its shares)."""

from __future__ import annotations

import logging
import os
import signal
import threading
from typing import Any

from kartoteka import db, exits
from kartoteka.entrypoints.operate import BROKER_DOWN, name_process
from kartoteka.settings import Settings
from services.projections import registry
from services.projections.claims import Claims, wait_sole, watch_sole
from services.projections.runner import TRANSIENT
from services.projections.spec import Context
from services.projections.status import status_file
from services.projections.tracking import Positions
from services.projections.worker_processes import run_shares, share_name

log = logging.getLogger(__name__)
UNREACHABLE = (*TRANSIENT, *BROKER_DOWN)


def run_worker(name: str, settings: Settings, share: tuple[int, int] | None = None) -> None:
    """Run one worker until SIGTERM/SIGINT; the supervisor restarts it if it crashes.

    A worker whose spec allows it runs as several processes while it has a backlog, each
    owning a share of the partitions (``share``: its index and the count).

    A failure ends the process with one JSON record (a lost database session, say, when the
    server restarts): a bare traceback, or the command line's one-line refusal with its "is
    the stack running" hint, does not belong in the stack's structured log.
    """
    try:
        _run_worker(name, settings, share)
    except UNREACHABLE as exc:
        where = "broker" if isinstance(exc, BROKER_DOWN) else "database"
        log.error(f"worker stopped: the {where} cannot be reached", extra={
            "worker": name, "error": f"{type(exc).__name__}: {str(exc).strip()}"})
        raise SystemExit(exits.UNREACHABLE) from None
    except Exception:
        log.exception("worker failed", extra={"worker": name})
        raise SystemExit(1) from None


def _run_worker(name: str, settings: Settings, share: tuple[int, int] | None) -> None:
    spec = registry.spec_of(name)
    if share is None:  # once per worker: its shares inherit it
        lower_priority(spec.niceness(settings), name)
    most, backlog = spec.shares(settings)
    if share is None and most > 1:
        topics = [settings.topic(t) for t in spec.consumes]
        if run_shares(name, topics, settings, most, backlog, status_file(settings, name), run_worker):
            raise SystemExit(1)
        return
    if share is not None:
        name_process(f"kartoteka worker {name} share {share[0] + 1}/{share[1]}")
    datastore = db.datastore(settings.dsn, pool_size=2)
    # Every process of this worker, on any machine, claims its partitions (or, for a
    # singleton, its turn) among the others: the locks live in the one shared database.
    claims = Claims(settings.dsn, f"{settings.topic_prefix}{name}",
                    1 if spec.singleton else settings.partitions, expected=share[1] if share else 1)
    try:
        status = status_file(settings, name if share is None else share_name(name, share[0]))
        worker = registry.runnable(spec, Context(settings, datastore, Positions(datastore), status),
                                   share or (0, 1), claims=claims)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: worker.stopping.set())
        if spec.standalone and spec.singleton:
            _run_sole(name, worker, claims)
        else:
            worker.run()
    finally:
        claims.close()
        datastore.close()
        log.info("worker stopped", extra={"worker": name})


def lower_priority(increment: int, name: str) -> None:
    """Run this process ``increment`` nicer than its parent (an unprivileged process can only
    lower its own priority, so a restarted worker starts from its parent's again)."""
    if increment > 0:
        niceness = os.nice(increment)
        log.info("worker priority lowered", extra={"worker": name, "nice": niceness})


def _run_sole(name: str, worker: Any, claims: Claims) -> None:
    """A singleton with a loop of its own: a standby until the others are gone, then the one."""
    log.info("worker waits for its turn", extra={"worker": name})
    if not wait_sole(claims, worker.stopping):
        return
    log.info("worker holds its turn", extra={"worker": name})
    lost = threading.Event()
    watcher = threading.Thread(target=watch_sole, args=(claims, worker.stopping, lost), daemon=True)
    watcher.start()
    worker.run()
    if lost.is_set():
        raise SystemExit(1)
