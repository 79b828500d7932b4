"""Rebuild the card and timeline read models by replaying the recorded identity log.

The identity log in PostgreSQL is the truth; the read models are disposable. A rebuild
empties them, forgets the relay's and the projection's positions, and lets both run from
the start of the log until they catch up. Run it with the workers stopped.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable

from kartoteka import db
from kartoteka.settings import Settings
from services.projections.identity.identity_log import IdentityLog
from services.projections.identity.relay import Relay
from services.projections.runner import Runner
from services.projections.status import status_file
from services.projections.timeline.store import TimelineStore
from services.projections.timeline.worker import TimelineProjection
from services.projections.tracking import Positions

READ_MODELS = ("customers", "customer_identifiers", "timeline", "customer_history")


def reset(settings: Settings) -> int:
    """Empty the read models and forget their positions; returns the log's length to replay."""
    store = db.datastore(settings.dsn, pool_size=1)
    try:
        with store.transaction(commit=True) as curs:
            curs.execute(f"TRUNCATE {', '.join(READ_MODELS)}")
            curs.execute(f"DELETE FROM {db.TRACKING_TABLE} WHERE application_name LIKE 'timeline:%%'"
                         " OR application_name LIKE 'relay:%%'")
            curs.execute(f"SELECT max(notification_id) AS n FROM {db.IDENTITY_EVENTS_TABLE}")
            row = curs.fetchone()
        return int(row["n"] or 0) if row else 0
    finally:
        store.close()


def rebuild(settings: Settings, report: Callable[[int, int, float], None] | None = None) -> float:
    """Replay until the read models hold the whole log; returns events per second."""
    total = reset(settings)
    datastore = db.datastore(settings.dsn, pool_size=4)
    positions = Positions(datastore)
    relay = Relay(settings, IdentityLog(datastore), positions, status_file(settings, "rebuild-relay"))
    projection = TimelineProjection(TimelineStore(datastore, positions), settings.timeline_batch_max_records)
    runner = Runner(settings, projection, positions, status_file(settings, "rebuild-timeline"))
    threads = [threading.Thread(target=w.run, daemon=True) for w in (relay, runner)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    try:
        while relay.published < total or runner.lag > 0 or runner.processed < relay.sent:
            if not all(t.is_alive() for t in threads):
                raise RuntimeError("a rebuild worker stopped early; see the log")
            time.sleep(0.2)
            if report:
                report(runner.processed, total, time.monotonic() - started)
    finally:
        relay.stopping.set()
        runner.stopping.set()
        for thread in threads:
            thread.join(30)
        datastore.close()
    elapsed = max(time.monotonic() - started, 1e-6)
    return total / elapsed


def progress_line(done: int, total: int, elapsed: float) -> None:
    """A one-line progress display for terminals (stderr)."""
    rate = done / elapsed if elapsed else 0.0
    width = 30
    filled = int(width * done / total) if total else width
    sys.stderr.write(f"\rrebuild [{'#' * filled}{'.' * (width - filled)}] {done}/{total} events {rate:,.0f}/s")
    sys.stderr.flush()
