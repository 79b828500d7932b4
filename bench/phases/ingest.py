"""Ingest throughput: HTTP batch and single POSTs (locust) vs plain kafka-python produce of the same
records to the same broker with the same producer tuning (acks=all, PRODUCER_DEFAULTS).

The ingest service runs alone in its own stack (no workers read its topics), so the ratio compares
the HTTP path with the bare client on the same otherwise idle machine.
"""

from __future__ import annotations

import statistics
from typing import Any

from bench.baselines import raw_produce, records
from bench.loadgen import LoadRun, run_locust
from bench.plan import Context
from bench.stack import Stack
from bench.stats import per_second, ratio, summary
from kartoteka.auth import Role

CUSTOMERS = 50_000


def run(ctx: Context) -> dict[str, Any]:
    plan = ctx.plan
    stack = Stack(ctx.infra, "ingest", ctx.run_dir)
    try:
        stack.start("ingest")
        raw_runs = [
            raw_produce(stack.settings, records("batch", plan.baseline_records, CUSTOMERS), "bench.raw")
            for _ in range(3)
        ]
        baseline = sorted(raw_runs, key=lambda r: r["per_s"])[1]
        env = {"BENCH_TOKEN": stack.token(Role.channel, "bench-channel"),
               "BENCH_CUSTOMERS": str(CUSTOMERS), "BENCH_BATCH": str(plan.batch_size)}
        profiled = ctx.profiler.start("ingest-batch", {"ingest": stack.procs["ingest"].pid}, plan.ingest_s - 2)
        batch = _load(ctx, stack, "BatchIngest", plan.batch_users, {**env, "BENCH_RUN": "batch"})
        profile = ctx.profiler.finish(profiled)
        single = _load(ctx, stack, "SingleIngest", plan.single_users, {**env, "BENCH_RUN": "single"})
    finally:
        stack.stop()
    return {
        "baseline_produce": {**baseline, "repetitions": [r["per_s"] for r in raw_runs],
                             "median_of": len(raw_runs)},
        "batch": _figures(batch, baseline["per_s"], plan.batch_users, plan.batch_size),
        "single": _figures(single, baseline["per_s"], plan.single_users, 1),
        "profile": profile,
    }


def _load(ctx: Context, stack: Stack, user: str, users: int, env: dict[str, str]) -> LoadRun:
    return run_locust(user, stack.url("ingest"), users, ctx.plan.ingest_s, env,
                      ctx.run_dir / f"ingest-{user}", stack.pids())


def _figures(load: LoadRun, raw_per_s: float, users: int, batch: int) -> dict[str, Any]:
    per_s = load.throughput()
    good = load.ok()
    origin = min((s.started for s in load.samples), default=0.0)
    return {
        "per_s": round(per_s, 1),
        "ratio_to_raw": ratio(per_s, raw_per_s),
        "accepted": sum(s.items for s in good),
        "requests": len(load.samples),
        "failures": load.failures,
        "users": users,
        "items_per_request": batch,
        "latency_ms": summary([s.ms for s in good]),
        "cpu_cores": load.cpu,
        "series": per_second(((s.ended, s.items) for s in good), origin),
        "median_items_per_s": statistics.median([n for _, n in per_second(
            ((s.ended, s.items) for s in good), origin)] or [0]),
    }
