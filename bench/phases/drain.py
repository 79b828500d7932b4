"""Projection drain: interactions/s from the first 202 to the last interaction visible in the timeline,
vs plain kafka-python consume + COPY of the same records (one hop, and two hops with a produce
between them, the pipeline's shape), with every process's memory at idle, over the drain and at its end."""

from __future__ import annotations

import time
from typing import Any

from bench import memory
from bench.baselines import raw_consume_copy
from bench.cpu import Meter
from bench.loadgen import run_locust
from bench.plan import Context
from bench.stack import Stack
from bench.stats import ratio, summary
from bench.twohop import raw_two_hop
from bench.watch import Watcher
from events import topics
from kartoteka.auth import Role

TARGET_PER_S = 6_000


def run(ctx: Context, stack: Stack) -> dict[str, Any]:
    n = ctx.plan.drain_records
    already = stack.count()
    idle = memory.snapshot(stack.pids())
    watcher = Watcher(stack).start()
    sampler = memory.Sampler(stack.pids(), lambda: watcher.latest, interval=0.5).start()
    meter = Meter(stack.pids()).start()
    profiled = ctx.profiler.start(
        "drain", {s: p.pid for s, p in stack.procs.items()}, 120 + n / 100  # stopped when drained
    )
    env = {"BENCH_TOKEN": stack.token(Role.channel, "bench-channel"), "BENCH_RUN": "drain",
           "BENCH_CUSTOMERS": str(max(1, n // 4)), "BENCH_BATCH": str(ctx.plan.batch_size),
           "BENCH_TOTAL": str(n)}
    load = run_locust("BatchIngest", stack.url("ingest"), 2, 60 + n / 500, env,
                      ctx.run_dir / "drain-BatchIngest", stack.pids())
    accepted = sum(s.items for s in load.ok())
    visible_at = watcher.wait_for(already + accepted, 120 + n / 100, "drain: timeline rows")
    watcher.stop()
    cpu = meter.stop()
    metered_s = time.monotonic() - meter.started
    drained = sampler.stop()
    profile = ctx.profiler.finish(profiled)
    first_202 = min(s.ended for s in load.ok())
    last_202 = max(s.ended for s in load.ok())
    per_s = accepted / (visible_at - first_202) if visible_at else None
    baseline = raw_consume_copy(stack.settings, topics.INTERACTIONS, accepted)
    two_hop = raw_two_hop(stack.settings, topics.INTERACTIONS, accepted)
    return {
        "interactions": accepted,
        "per_s": round(per_s, 1) if per_s else None,
        "seconds": round(visible_at - first_202, 2) if visible_at else None,
        "ingest_seconds": round(last_202 - first_202, 2),
        "complete": visible_at is not None,
        "baseline_consume_copy": baseline,
        "baseline_two_hop": two_hop,
        "ratio_to_raw": ratio(per_s, two_hop["per_s"]),
        "ratio_to_one_hop": ratio(per_s, baseline["per_s"]),
        "batch_latency_ms": summary([s.ms for s in load.ok()]),
        "cpu_cores": cpu,
        # CPU time per interaction of each process over the drain: less sensitive to what else
        # the shared cores run than the rate (a starved stage takes longer, not more CPU).
        "cpu_us_per_interaction": {k: round(v * metered_s / max(accepted, 1) * 1e6, 1)
                                   for k, v in cpu.items() if k not in ("machine", "others")},
        "memory": {"idle": idle, "idle_python_pss_mb": memory.python_total(idle), "drain": drained},
        "series": watcher.series(first_202),
        "profile": profile,
    }
