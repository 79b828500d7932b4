"""Replay: rebuild the card + timeline projection from offset zero of customers.v1.

The timeline worker is stopped, its read model (the tables its registry entry names) is
truncated and its tracked positions deleted, then it is started again and rebuilds everything.
Compared with plain kafka-python consume + COPY of the same topic into a timeline-shaped table.
"""

from __future__ import annotations

import time
from typing import Any

from bench.baselines import raw_consume_copy
from bench.cpu import Meter
from bench.plan import Context
from bench.stack import Stack
from bench.stats import ratio
from bench.watch import Watcher
from events import topics
from kartoteka import kafka
from services.projections.registry import spec_of


def run(ctx: Context, stack: Stack) -> dict[str, Any]:
    rows, customers = stack.count("timeline"), stack.count("customers")
    events = _topic_size(stack)
    if not rows:
        raise RuntimeError("nothing to replay: the drain phase left no timeline rows")
    stack.stop("timeline")
    with stack.connect() as conn:
        conn.execute(f"TRUNCATE {', '.join(_read_models(conn))}")
        conn.execute("DELETE FROM tracking WHERE application_name LIKE 'timeline:%'")
    meter = Meter({k: v for k, v in stack.pids().items() if k in ("tansu", "postgres")}).start()
    spawned = time.time()
    stack.start("timeline", wait=False)
    meter.add("timeline", stack.procs["timeline"].pid)
    watcher = Watcher(stack, interval=0.05).start()
    profiled = ctx.profiler.start("replay", {"timeline": stack.procs["timeline"].pid}, 10)
    done_at = watcher.wait_for(rows, 120 + rows / 500, "replay: timeline rows")
    watcher.stop()
    cpu = meter.stop()
    profile = ctx.profiler.finish(profiled)
    first = watcher.first_row_at or spawned
    per_s = rows / (done_at - first) if done_at else None
    baseline = raw_consume_copy(stack.settings, topics.CUSTOMERS, events)
    return {
        "interactions": rows,
        "events": events,
        "customers": customers,
        "customers_rebuilt": stack.count("customers"),
        "per_s": round(per_s, 1) if per_s else None,
        "events_per_s": round(events / (done_at - first), 1) if done_at else None,
        "seconds": round(done_at - first, 2) if done_at else None,
        "startup_s": round(first - spawned, 2),
        "per_s_with_startup": round(rows / (done_at - spawned), 1) if done_at else None,
        "complete": done_at is not None,
        "baseline_consume_copy": baseline,
        "ratio_to_raw": ratio(per_s, baseline["per_s"]),
        "cpu_cores": cpu,
        "series": watcher.series(first),
        "profile": profile,
    }


def _read_models(conn: Any) -> list[str]:
    """The card + timeline projection's tables (its registry entry) that exist in this build."""
    wanted = list(spec_of("timeline").read_model)
    rows = conn.execute("SELECT tablename FROM pg_tables WHERE tablename = ANY(%s)", (wanted,)).fetchall()
    return [r[0] for r in rows]


def _topic_size(stack: Stack) -> int:
    consumer = kafka.consumer(stack.settings)
    try:
        partitions = kafka.partitions_of(consumer, stack.settings.topic(topics.CUSTOMERS))
        return sum(consumer.end_offsets(partitions).values())
    finally:
        consumer.close()
