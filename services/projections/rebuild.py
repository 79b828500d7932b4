"""``kartoteka rebuild``: every registered read model built again from its log, beside the
live one, and swapped in at the end (services.projections.shadow).

A read model is disposable when its log still holds everything it was built from. For a
topic a relay publishes from PostgreSQL (customers.v1 from the identity log) that is always
so: the relay publishes its source again from a fresh position. A topic whose only copy is
the broker qualifies while every position of the worker names the topic's current id (the
in-memory broker has not lost the log since) and the log starts at offset 0; otherwise the
model is kept and reported as skipped. The live models and positions change only in the
final swap's one transaction: a rebuild that fails or is interrupted leaves them as they
were. Run it with the workers stopped.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kartoteka import db, kafka
from kartoteka.settings import Settings
from services.projections import registry, shadow, tracking
from services.projections.spec import Context, WorkerSpec
from services.projections.status import status_file
from services.projections.tracking import Positions

Progress = Callable[[int, int, float], None]


@dataclass
class RebuildReport:
    rebuilt: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    records: int = 0
    seconds: float = 0.0

    @property
    def per_s(self) -> float:
        return self.records / max(self.seconds, 1e-6)


def published_by(relay: WorkerSpec) -> set[str]:
    """What a relay publishes from PostgreSQL: its own topics and the outbox's (a standalone
    worker that publishes nothing, such as retention, feeds nobody)."""
    if not relay.produces:
        return set()
    return set(relay.produces) | set(registry.outbox_topics())


def feeders_of(spec: WorkerSpec, workers: Sequence[WorkerSpec] = registry.WORKERS) -> list[WorkerSpec]:
    """The relays that publish one of the worker's topics from PostgreSQL."""
    return [w for w in workers if w.standalone and published_by(w) & set(spec.consumes)]


def _unreplayable(spec: WorkerSpec, settings: Settings, curs: Any) -> str | None:
    """Why the broker no longer holds what the model was built from (None: it does)."""
    fed = {t for f in feeders_of(spec) for t in published_by(f)}
    own = [settings.topic(t) for t in spec.consumes if t not in fed]
    if not own:
        return None
    ids = kafka.topic_ids(settings, own)
    for topic in own:
        stale = [n for n in tracking.names_starting(curs, f"{spec.name}:{topic}:")
                 if not n.startswith(f"{spec.name}:{topic}:{ids[topic]}:")]
        if stale:
            return f"{topic} was recreated since the model was built (the broker lost its log)"
    consumer = kafka.consumer(settings)
    try:
        partitions = [tp for t in own for tp in kafka.partitions_of(consumer, t)]
        if any(offset > 0 for offset in consumer.beginning_offsets(partitions).values()):
            return "the broker no longer holds the beginning of the log (retention)"
    finally:
        consumer.close()
    return None


def position_prefixes(spec: WorkerSpec, settings: Settings) -> list[str]:
    """The worker's positions (and its feeders' for the fed topics), as name prefixes."""
    prefixes = [f"{spec.name}:{settings.topic(t)}:" for t in spec.consumes]
    prefixes += [f"{f.name}:{settings.topic(t)}:" for f in feeders_of(spec)
                 for t in published_by(f) if t in spec.consumes]
    return prefixes


def stages(targets: list[WorkerSpec]) -> list[list[WorkerSpec]]:
    """The targets in rounds: a worker waits for the rebuilt models it consults (``after``)."""
    rounds, left = [], list(targets)
    while left:
        waiting = {t.name for t in left}
        ready = [t for t in left if not set(t.after) & (waiting - {t.name})]
        if not ready:
            raise ValueError(f"workers wait on each other: {sorted(waiting)}")
        rounds.append(ready)
        left = [t for t in left if t not in ready]
    return rounds


def rebuild(settings: Settings, report: Progress | None = None, timeout_s: float = 3600) -> RebuildReport:
    """Rebuild every registered read model whose log allows it; waits until all caught up."""
    result = RebuildReport()
    live = db.datastore(settings.dsn, pool_size=1)
    try:
        with live.transaction(commit=False) as curs:  # reads only: nothing live changes here
            targets = []
            for spec in (w for w in registry.WORKERS if w.read_model):
                why = _unreplayable(spec, settings, curs)
                if why:
                    result.skipped[spec.name] = why
                else:
                    targets.append(spec)
    finally:
        live.close()
    result.rebuilt = [t.name for t in targets]
    tables = [table for spec in targets for table in spec.read_model]
    shadow.prepare(settings.dsn, tables)
    datastore = db.datastore(settings.dsn, pool_size=4, schema=shadow.SCHEMA)
    try:
        for stage in stages(targets):
            _replay(settings, datastore, stage, result, report, timeout_s)
    except BaseException:
        datastore.close()
        shadow.discard(settings.dsn)
        raise
    datastore.close()
    shadow.swap(settings.dsn, tables,
                [prefix for spec in targets for prefix in position_prefixes(spec, settings)])
    return result


def _replay(settings: Settings, datastore: Any, targets: list[WorkerSpec], result: RebuildReport,
            report: Progress | None, timeout_s: float) -> None:
    positions = Positions(datastore)
    feeders = {f.name: f for t in targets for f in feeders_of(t)}
    workers = {spec.name: registry.runnable(spec, Context(
        settings, datastore, positions, status_file(settings, f"rebuild-{spec.name}")))
        for spec in [*feeders.values(), *targets]}
    threads = [threading.Thread(target=w.run, daemon=True, name=n) for n, w in workers.items()]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    try:
        fed_at: float | None = None
        while True:
            if not all(t.is_alive() for t in threads):
                raise RuntimeError("a rebuild worker stopped early; see the log")
            if time.monotonic() - started > timeout_s:
                raise TimeoutError("rebuild not caught up in time")
            time.sleep(0.2)
            runners = [workers[t.name] for t in targets]
            done = sum(getattr(r, "processed", 0) for r in runners)
            backlog = sum(getattr(w, "lag", 0) for w in workers.values())
            if report:
                report(done, done + backlog, time.monotonic() - started)
            feeding = any(getattr(workers[n], "lag", 1) or not getattr(workers[n], "status_at", 0)
                          for n in feeders)
            if feeding:
                fed_at = None
                continue
            fed_at = fed_at or time.time()
            # Lag is computed from what the broker reported after the feeders had published.
            if all(getattr(r, "status_at", 0) > fed_at + 1 and getattr(r, "lag", 1) == 0 for r in runners):
                result.records += done
                break
    finally:
        for worker in workers.values():
            worker.stopping.set()
        for thread in threads:
            thread.join(30)
    result.seconds += time.monotonic() - started
