"""Reads: p50/p99 of card, timeline and search through the real api (agent token, audited) on a
bulk-loaded dataset (:mod:`bench.load`), at a steady offered rate per endpoint; vs the same SQL
(``services.api.views``) called in-process, one at a time, with no HTTP, auth or audit event."""

from __future__ import annotations

import asyncio
import json
import random
import time
from typing import Any

from psycopg_pool import AsyncConnectionPool

from bench.load import load
from bench.loadgen import LoadRun, run_locust
from bench.plan import Context
from bench.stack import Stack
from bench.stats import ratio, summary
from kartoteka.auth import Role
from kartoteka.supervisor import WORKERS
from services.api import views

READERS = {"card": "CardRead", "timeline": "TimelineRead", "search": "SearchRead"}
RAW_CALLS = 300
RAW_BUDGET_S = 45.0  # slow queries must not stretch the run: stop the raw calls after this


def run(ctx: Context) -> dict[str, Any]:
    plan = ctx.plan
    stack = Stack(ctx.infra, "reads", ctx.run_dir)
    started = time.monotonic()
    sample = load(stack.settings.dsn, plan.customers, plan.interactions)
    load_s = time.monotonic() - started
    sample_path = ctx.run_dir / "read-sample.json"
    sample_path.write_text(json.dumps(sample, ensure_ascii=False))
    try:
        stack.start("api", *WORKERS)  # the audit side consumes every read's access event
        env = {"BENCH_TOKEN": stack.token(Role.agent, "bench-agent"),
               "BENCH_READ_SAMPLE": str(sample_path), "BENCH_RATE": str(plan.read_rate / plan.read_users)}
        loads = {
            name: run_locust(user, stack.url("api"), plan.read_users, plan.read_s, env,
                             ctx.run_dir / f"reads-{user}", stack.pids())
            for name, user in READERS.items()
        }
        raw = asyncio.run(_raw(stack.settings.dsn, sample))
    finally:
        stack.stop()
    return {
        "customers": plan.customers,
        "interactions": plan.interactions,
        "load_seconds": round(load_s, 1),
        "offered_per_s": plan.read_rate,
        "endpoints": {name: _figures(run_, raw) for name, run_ in loads.items()},
    }


def _figures(load_run: LoadRun, raw: dict[str, list[float]]) -> dict[str, Any]:
    names = sorted({s.name for s in load_run.samples})
    found: dict[str, Any] = {"cpu_cores": load_run.cpu, "failures": load_run.failures}
    if len(names) > 1:
        found["all"] = {"api_ms": summary([s.ms for s in load_run.ok()]),
                        "raw_sql_ms": summary([v for n in names for v in raw.get(n, [])])}
    for name in names:
        api = summary([s.ms for s in load_run.ok(name)])
        base = summary(raw.get(name, []))
        found[name] = {
            "api_ms": api,
            "raw_sql_ms": base,
            "p99_ratio_to_raw": ratio(api["p99"], base["p99"]),
            "achieved_per_s": round(len(load_run.ok(name)) / max(load_run.seconds, 1e-6), 1),
            "latencies": sorted(round(s.ms, 2) for s in load_run.ok(name)),
        }
    return found


async def _raw(dsn: str, sample: list[dict[str, str]]) -> dict[str, list[float]]:
    """The api's own view functions, called directly, sequentially: the SQL floor of each read."""
    timings: dict[str, list[float]] = {}
    rng = random.Random(3)
    deadline = time.monotonic() + RAW_BUDGET_S
    async with AsyncConnectionPool(dsn, min_size=1, max_size=2) as pool:
        for i in range(RAW_CALLS):
            if time.monotonic() > deadline:
                break
            who = rng.choice(sample)
            kind = ("phone", "email", "name")[i % 3]
            calls = {
                "card": lambda w=who: views.card(pool, w["id"]),
                "timeline": lambda w=who: _timeline(pool, w["id"]),
                f"search:{kind}": lambda w=who, k=kind: views.search(pool, w[k], 50),
            }
            for name, call in calls.items():
                started = time.perf_counter()
                await call()
                timings.setdefault(name, []).append((time.perf_counter() - started) * 1000)
    return timings


async def _timeline(pool: AsyncConnectionPool, customer_id: str) -> Any:
    """What the timeline route runs: the customer's merge group, then its newest 50 rows."""
    found = await views.members(pool, customer_id)
    return await views.timeline(pool, found[1] if found else [customer_id], None, None, 50)
