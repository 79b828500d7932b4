"""Composition root of the projection workers: ``kartoteka worker <name>``."""

from __future__ import annotations

import logging
import signal
from datetime import timedelta

from eventsourcing.postgres import PostgresDatastore

from events import topics
from events.audit.trail import checkpoint_key
from kartoteka import db
from kartoteka.keystore import KeyRing, master_key
from kartoteka.settings import Settings
from services.projections.alerts.store import AlertStore
from services.projections.alerts.worker import AlertProjection
from services.projections.audit.publish import AlertPublisher
from services.projections.audit.store import AccessStore
from services.projections.audit.worker import AuditProjection
from services.projections.detect.worker import DetectProjection
from services.projections.employees.store import EmployeeStore
from services.projections.employees.worker import EmployeeProjection
from services.projections.identity.guards import GuardConfig
from services.projections.identity.identity_log import IdentityLog
from services.projections.identity.relay import Relay
from services.projections.identity.worker import IdentityResolver
from services.projections.retention.worker import Retention
from services.projections.runner import Projection, Runner
from services.projections.status import status_file
from services.projections.timeline.store import TimelineStore
from services.projections.timeline.worker import TimelineProjection
from services.projections.tracking import Positions
from services.projections.work.store import WorkStore
from services.projections.work.worker import WorkProjection
from services.projections.worker_processes import share_name

log = logging.getLogger(__name__)
WORKERS = ("resolver", "relay", "timeline", "audit", "employees", "detect", "alerts", "work", "retention")


def guard_config(settings: Settings) -> GuardConfig:
    blocked = frozenset(k.strip() for k in settings.identity_blocked.split(",") if k.strip())
    return GuardConfig(blocked_values=blocked, max_merges_per_identifier=settings.identity_max_merges,
                       merge_window=timedelta(days=settings.identity_merge_window_days))


def _projection(
    name: str, datastore: PostgresDatastore, positions: Positions, settings: Settings
) -> Projection:
    if name == "resolver":
        return IdentityResolver(IdentityLog(datastore), positions, guard_config(settings),
                                KeyRing(master_key(settings)))
    if name == "timeline":
        return TimelineProjection(TimelineStore(datastore, positions), settings.timeline_batch_max_records)
    if name == "audit":
        store = AccessStore(datastore, positions, checkpoint_key(settings.secret))
        return AuditProjection(store, AlertPublisher(settings).publish)
    if name == "employees":
        return EmployeeProjection(EmployeeStore(datastore, positions))
    if name == "detect":
        return DetectProjection(datastore, positions, AlertPublisher(settings).publish)
    if name == "alerts":
        return AlertProjection(AlertStore(datastore, positions))
    if name == "work":
        return WorkProjection(WorkStore(datastore, positions, KeyRing(master_key(settings))))
    raise ValueError(f"unknown worker {name!r}; one of {', '.join(WORKERS)}")


def run_worker(name: str, settings: Settings, share: tuple[int, int] | None = None) -> None:
    """Run one worker until SIGTERM/SIGINT; the supervisor restarts it if it crashes.

    The card + timeline worker runs as up to ``timeline_processes`` processes while it has a
    backlog, each owning a share of the partitions (``share``: its index and the count).
    """
    most = min(settings.timeline_processes, settings.partitions) if name == "timeline" else 1
    if share is None and most > 1:
        from services.projections.worker_processes import run_shares

        if run_shares(name, settings.topic(topics.CUSTOMERS), settings, most,
                      settings.timeline_share_backlog, status_file(settings, name), run_worker):
            raise SystemExit(1)
        return
    datastore = db.datastore(settings.dsn, pool_size=2)
    positions = Positions(datastore)
    try:
        if name == "retention":
            retention = Retention(settings, datastore, status_file(settings, name))
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: retention.stopping.set())
            retention.run()
            return
        if name == "relay":
            relay = Relay(settings, IdentityLog(datastore), positions, status_file(settings, name))
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: relay.stopping.set())
            relay.run()
            return
        runner = Runner(
            settings,
            _projection(name, datastore, positions, settings),
            positions,
            status_file(settings, name if share is None else share_name(name, share[0])),
            share=share or (0, 1),
        )
        runner.install_signal_handlers()
        runner.run()
    finally:
        datastore.close()
        log.info("worker stopped", extra={"worker": name})
