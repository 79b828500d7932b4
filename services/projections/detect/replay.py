"""``kartoteka replay-detectors``: run the (changed) detectors over the whole access trail.

Reads ``access_log`` employee by employee in month-long spans (each with the look-back the
detectors need), evaluates exactly as the worker does, and records the alerts in the outbox,
which the relay publishes to alerts.v1. Alert ids are deterministic, so what the worker already raised is upserted
again rather than duplicated; a changed detector's new findings appear as new alerts.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor

from events.audit.records import alert_record
from events.catalog import AlertRaised
from kartoteka import outbox
from services.projections.detect.detectors import DEFAULT_CONFIG, Alert, DetectorConfig, Kind
from services.projections.detect.evaluate import HORIZON, evaluate, span_of, strongest, to_event
from services.projections.detect.store import History

CHUNK = timedelta(days=30)
Publish = Callable[[list[AlertRaised]], None]


@dataclass
class ReplayReport:
    employees: int = 0
    accesses: int = 0
    alerts: int = 0


def _chunks(first: datetime, last: datetime) -> list[tuple[datetime, datetime]]:
    edges, at = [], first
    while at <= last:
        edges.append((at, min(at + CHUNK, last + timedelta(microseconds=1))))
        at += CHUNK
    return edges


def replay_employee(
    curs: Cursor[Any],
    history: History,
    employee_id: str,
    cfg: DetectorConfig = DEFAULT_CONFIG,
    kinds: Collection[Kind] | None = None,
) -> tuple[int, list[AlertRaised]]:
    """All alerts of one employee over their whole trail, and how many accesses were read."""
    bounds = history.bounds(curs, employee_id)
    if bounds is None:
        return 0, []
    read, alerts, context_of = 0, [], {}
    for begin, end in _chunks(*bounds):
        new = history.accesses(curs, employee_id, begin, end)
        if not new:
            continue
        ctx = history.context(curs, employee_id, begin - HORIZON - timedelta(days=1), end)
        span = span_of(new, ctx)
        past = history.accesses(curs, employee_id, span[0] - HORIZON, span[1])
        peers = history.peers(curs, ctx, span[0] - HORIZON, span[1], cfg)
        found = evaluate(past, ctx, span, cfg, peers=peers, kinds=kinds)
        context_of.update({a.id: past for a in found})
        alerts.extend(found)
        read += len(new)
    kept: list[Alert] = strongest(alerts)
    return read, [to_event(a, context_of[a.id], detector="replay") for a in kept]


def to_outbox(datastore: PostgresDatastore) -> Publish:
    """Where replayed alerts go: the outbox, one transaction per employee."""
    def record(alerts: list[AlertRaised]) -> None:
        with datastore.transaction(commit=True) as curs:
            outbox.write(curs, [alert_record(a, "kartoteka/replay-detectors") for a in alerts],
                         "replay-detectors")

    return record


def replay(
    datastore: PostgresDatastore,
    publish: Publish | None,
    *,
    employees: Collection[str] | None = None,
    kinds: Collection[Kind] | None = None,
    cfg: DetectorConfig = DEFAULT_CONFIG,
    progress: Callable[[str], None] = print,
) -> ReplayReport:
    """Replay every employee (or ``employees``); ``publish=None`` is a dry run."""
    history = History("access_log")
    with datastore.transaction(commit=False) as curs:
        wanted = history.employees(curs, employees)
    report = ReplayReport()
    for n, employee_id in enumerate(wanted, start=1):
        with datastore.transaction(commit=False) as curs:
            read, raised = replay_employee(curs, history, employee_id, cfg, kinds)
        if publish is not None:
            publish(raised)
        report.employees, report.accesses = n, report.accesses + read
        report.alerts += len(raised)
        progress(f"\r  [{n}/{len(wanted)}] {employee_id}: {read:,} accesses, {len(raised)} alerts"
                 f" (total {report.alerts:,} alerts from {report.accesses:,} accesses)")
    progress("\n")
    return report
