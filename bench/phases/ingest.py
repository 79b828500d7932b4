"""Ingest throughput as a backlog arrives, each figure beside a raw baseline taken in the same run.

- ``batch``: ``ingest_records`` interactions of ``ingest_customers`` customers posted as
  ``batch_size``-item batches by ``batch_users`` closed-loop clients (locust) while every projection
  worker drains them (the processes ``kartoteka up`` runs), vs plain kafka-python produce of the
  same records to the same broker with the same producer tuning (acks=all, ``PRODUCER_DEFAULTS``).
- ``batch_alone``: the same kind of load with the workers stopped (how fast ingest is by itself).
- ``single``: one interaction per POST from ``single_users`` keep-alive connections (wrk), workers
  stopped, vs plain FastAPI on uvicorn answering the same bodies without Kafka (``bench.rawhttp``).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.baselines import raw_produce, records
from bench.loadgen import LoadRun, run_locust
from bench.payloads import item
from bench.plan import Context
from bench.stack import REPO, Stack
from bench.stats import per_second, ratio, summary
from bench.watch import Watcher
from bench.wrk import WrkRun, run_posts
from kartoteka.auth import Role
from kartoteka.embedded import free_port
from services.projections.registry import names as worker_names


def run(ctx: Context) -> dict[str, Any]:
    plan = ctx.plan
    stack = Stack(ctx.infra, "ingest", ctx.run_dir)
    try:
        stack.start("ingest", *worker_names())
        raw_runs = [raw_produce(stack.settings, records("batch", plan.ingest_records, plan.ingest_customers),
                                "bench.raw") for _ in range(3)]
        baseline = sorted(raw_runs, key=lambda r: r["per_s"])[1]
        draining = _batch_while_draining(ctx, stack)
        stack.stop(*worker_names())
        alone = _batch(ctx, stack, "batch-alone", {"BENCH_CUSTOMERS": str(plan.ingest_customers)})
        bodies = single_bodies(ctx.run_dir / "single-bodies.txt", plan.ingest_customers)
        token = stack.token(Role.channel, "bench-channel")
        profiled = ctx.profiler.start("ingest-single", {"ingest": stack.procs["ingest"].pid}, plan.ingest_s - 2)
        single = run_posts(stack.url("ingest"), "/v1/interactions", bodies, token, plan.single_users,
                           plan.ingest_s, ctx.run_dir / "wrk-single.json", stack.pids())
        single_profile = ctx.profiler.finish(profiled)
    finally:
        stack.stop()
    raw_http_run = raw_http(ctx, stack, bodies)
    return {
        "baseline_produce": {**baseline, "repetitions": [r["per_s"] for r in raw_runs],
                             "median_of": len(raw_runs)},
        "batch": {**_figures(draining["load"], baseline["per_s"], plan.batch_users, plan.batch_size),
                  "drained_s": draining["drained_s"], "workers_running": True},
        "batch_alone": _figures(alone, baseline["per_s"], plan.batch_users, plan.batch_size),
        "single": _single(single, raw_http_run, plan.single_users),
        "baseline_http": {"per_s": raw_http_run.per_s, "latency_ms": raw_http_run.summary(),
                          "failures": raw_http_run.failures, "cpu_cores": raw_http_run.cpu},
        "profile": {**draining["profile"], **{f"single/{k}": v for k, v in single_profile.items()}},
    }


def _batch_while_draining(ctx: Context, stack: Stack) -> dict[str, Any]:
    """The batch load with every worker running; waits (bounded) until the timeline has it all,
    so the next load does not compete with the rest of the drain."""
    plan = ctx.plan
    already = stack.count()
    watcher = Watcher(stack, interval=0.5).start()
    pids = {"ingest": stack.procs["ingest"].pid}
    profiled = ctx.profiler.start("ingest-batch", pids, max(3, plan.ingest_records / 5_000))
    load = _batch(ctx, stack, "batch", {"BENCH_TOTAL": str(plan.ingest_records),
                                        "BENCH_CUSTOMERS": str(plan.ingest_customers)})
    profile = ctx.profiler.finish(profiled)
    accepted = sum(s.items for s in load.ok())
    visible_at = watcher.wait_for(already + accepted, 60 + accepted / 200, "ingest: drain the batches")
    watcher.stop()
    first = min((s.started for s in load.samples), default=time.time())
    return {"load": load, "profile": profile,
            "drained_s": round(visible_at - first, 2) if visible_at else None}


def _batch(ctx: Context, stack: Stack, run: str, env: dict[str, str]) -> LoadRun:
    plan = ctx.plan
    env = {"BENCH_TOKEN": stack.token(Role.channel, "bench-channel"), "BENCH_RUN": run,
           "BENCH_BATCH": str(plan.batch_size), **env}
    seconds = 60 + plan.ingest_records / 500 if "BENCH_TOTAL" in env else plan.ingest_s
    return run_locust("BatchIngest", stack.url("ingest"), plan.batch_users, seconds, env,
                      ctx.run_dir / f"ingest-{run}", stack.pids())


def single_bodies(path: Path, customers: int) -> Path:
    """Single-delivery bodies for ``bench/posts.lua``: ``@N@`` numbers each request's external id."""
    lines = []
    for n in range(min(customers, 4_000)):
        body = item("single", n, customers)
        body["external_id"] = "single-@N@"
        lines.append(json.dumps(body, ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n")
    return path


def raw_http(ctx: Context, stack: Stack, bodies: Path) -> WrkRun:
    """Plain FastAPI/uvicorn answering the same POSTs, as many worker processes as ingest has."""
    host, port = stack.settings.host, free_port()
    argv = [sys.executable, "-m", "bench.rawhttp", host, str(port), str(stack.settings.http_workers)]
    with open(ctx.run_dir / "raw-http.log", "wb") as log:
        server = subprocess.Popen(argv, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_listening(f"http://{host}:{port}/openapi.json", server)
        return run_posts(f"http://{host}:{port}", "/v1/interactions", bodies, "raw", ctx.plan.single_users,
                         ctx.plan.ingest_s, ctx.run_dir / "wrk-raw-http.json", {"raw_http": server.pid})
    finally:
        server.terminate()
        server.wait(20)


def _wait_listening(url: str, server: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"bench.rawhttp exited with {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError("bench.rawhttp did not answer")


def _single(load: WrkRun, raw: WrkRun, users: int) -> dict[str, Any]:
    per_s = round((load.requests - load.failures) / max(load.seconds, 1e-6), 1)
    raw_per_s = round((raw.requests - raw.failures) / max(raw.seconds, 1e-6), 1)
    return {"per_s": per_s, "raw_http_per_s": raw_per_s, "ratio_to_raw": ratio(per_s, raw_per_s),
            "accepted": load.requests - load.failures, "requests": load.requests, "failures": load.failures,
            "users": users, "items_per_request": 1, "latency_ms": load.summary(), "cpu_cores": load.cpu}


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
