"""Reads: p50/p99 of card, timeline, search, the supervisors' reports and the desk's card page
(its HTML: card and first timeline page, rendered) through the real api (agent and supervisor
tokens, page sessions; audited) on a bulk-loaded dataset (:mod:`bench.load`), at a steady offered
rate per endpoint driven by wrk (:mod:`bench.wrk`); vs the same query functions the routes and
pages call (``services.api.queries``) called in-process, one at a time, with
no HTTP, auth or audit event.

Each endpoint is warmed up first (the dataset was just bulk-loaded: its pages are not in
PostgreSQL's cache yet), then measured. Reads come from a pool of agents, as in a contact
center; every read still produces its access event for the audit side to consume.
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from psycopg_pool import AsyncConnectionPool

from bench.load import load
from bench.phases.report_reads import REPORT_KINDS, raw_reports, report_paths
from bench.plan import Context
from bench.stack import Stack
from bench.stats import ratio, summary
from bench.wrk import WrkRun, merged, run_wrk, wrk_binary
from kartoteka.auth import Role
from services.api.pages.desk import PAGE as CARD_PAGE_ITEMS
from services.api.pages.session import open_session
from services.api.queries.customers import card_json, search
from services.api.queries.timeline import timeline_page
from services.projections.registry import names as worker_names

SEARCH_KINDS = ("phone", "email", "name")
RAW_CALLS = 300
RAW_BUDGET_S = 45.0  # slow queries must not stretch the run: stop the raw calls after this


def run(ctx: Context) -> dict[str, Any]:
    plan = ctx.plan
    wrk_binary()  # fail before the long load when the load generator is missing
    stack = Stack(ctx.infra, "reads", ctx.run_dir)
    started = time.monotonic()
    sample = load(stack.settings.dsn, plan.customers, plan.interactions)
    load_s = time.monotonic() - started
    files = _request_files(ctx.run_dir, sample)
    try:
        stack.start("api", *worker_names())  # the audit side consumes every read's access event
        tokens = ctx.run_dir / "read-tokens.txt"
        tokens.write_text("".join(f"{stack.token(Role.agent, f'bench-agent-{i:03d}')}\n"
                                  for i in range(plan.read_agents)))
        leads = ctx.run_dir / "report-tokens.txt"  # reports are for supervisors
        leads.write_text("".join(f"{stack.token(Role.supervisor, f'bench-lead-{i:02d}')}\n" for i in range(5)))
        sessions = ctx.run_dir / "read-sessions.txt"
        sessions.write_text("".join(f"{open_session(stack.settings.secret, token)[1]}\n"
                                    for token in tokens.read_text().split()))
        loads = {
            "card": {"card": (files["card"], plan.read_rate)},
            "timeline": {"timeline": (files["timeline"], plan.read_rate)},
            "search": {f"search:{k}": (files[k], plan.read_rate / len(SEARCH_KINDS)) for k in SEARCH_KINDS},
            "reports": {f"report:{k}": (files[f"report:{k}"], plan.read_rate / len(REPORT_KINDS))
                        for k in REPORT_KINDS},
            "card_page": {"card_page": (files["card_page"], plan.read_rate)},
        }
        runs, profiles = {}, {}
        for endpoint, load_ in loads.items():
            users = max(2, plan.read_users // len(load_))
            auth, who = ("cookie", sessions) if endpoint == "card_page" else ("bearer", tokens)
            who = leads if endpoint == "reports" else who
            run_wrk(stack.url("api"), load_, who, users, plan.read_warmup_s, ctx.run_dir, {}, f"{endpoint}-warmup",
                    auth)
            # --profile: the api and the workers consuming the reads' access events, per endpoint.
            profiled = ctx.profiler.start(f"reads-{endpoint}", {s: p.pid for s, p in stack.procs.items()},
                                          plan.read_s + 5)
            runs[endpoint] = run_wrk(stack.url("api"), load_, who, users, plan.read_s, ctx.run_dir,
                                     stack.pids(), endpoint, auth)
            profiles[endpoint] = ctx.profiler.finish(profiled)
        raw = asyncio.run(_raw(stack.settings.dsn, sample))
        raw.update(asyncio.run(raw_reports(stack.settings.dsn)))
    finally:
        stack.stop()
    return {
        "customers": plan.customers,
        "interactions": plan.interactions,
        "load_seconds": round(load_s, 1),
        "offered_per_s": plan.read_rate,
        "agents": plan.read_agents,
        "warmup_s": plan.read_warmup_s,
        "connections": plan.read_users,
        "endpoints": {name: _figures(found, raw) for name, found in runs.items()},
        **({"profiles": profiles} if any(profiles.values()) else {}),
    }


def _request_files(run_dir: Path, sample: list[dict[str, str]]) -> dict[str, Path]:
    """One file of request paths per read, for wrk to pick from at random."""
    paths = {
        "card": [f"/v1/customers/{c['id']}" for c in sample],
        "timeline": [f"/v1/customers/{c['id']}/timeline" for c in sample],
        "card_page": [f"/desk/customers/{c['id']}" for c in sample],
        **{k: [f"/v1/customers?q={quote(c[k], safe='')}" for c in sample] for k in SEARCH_KINDS},
        **{f"report:{k}": lines for k, lines in report_paths().items()},
    }
    files = {}
    for name, lines in paths.items():
        files[name] = run_dir / f"read-paths-{name}.txt"
        files[name].write_text("".join(f"{line}\n" for line in lines))
    return files


def _figures(runs: dict[str, WrkRun], raw: dict[str, list[float]]) -> dict[str, Any]:
    first = next(iter(runs.values()))
    found: dict[str, Any] = {"cpu_cores": first.cpu, "failures": sum(r.failures for r in runs.values())}
    if len(runs) > 1:
        found["all"] = {"api_ms": merged(list(runs.values())),
                        "raw_sql_ms": summary([v for n in runs for v in raw.get(n, [])])}
    for name, run_ in runs.items():
        api = run_.summary()
        base = summary(raw.get(name, []))
        found[name] = {
            "api_ms": api,
            "raw_sql_ms": base,
            "p99_ratio_to_raw": ratio(api["p99"], base["p99"]),
            "achieved_per_s": run_.per_s,
            "failures": run_.failures,
            "latencies": run_.quantiles_ms,
        }
    return found


async def _raw(dsn: str, sample: list[dict[str, str]]) -> dict[str, list[float]]:
    """The routes' own query functions, called directly, sequentially: the SQL floor of each read."""
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
                "card": lambda w=who: card_json(pool, w["id"]),
                "timeline": lambda w=who: timeline_page(pool, w["id"], None, None, 50),
                f"search:{kind}": lambda w=who, k=kind: search(pool, w[k], 50),
                "card_page": lambda w=who: _card_page(pool, w["id"]),
            }
            for name, call in calls.items():
                started = time.perf_counter()
                await call()
                timings.setdefault(name, []).append((time.perf_counter() - started) * 1000)
    return timings


async def _card_page(pool: AsyncConnectionPool, customer_id: str) -> Any:
    """What the card page reads: the card, then the first page of the timeline."""
    await card_json(pool, customer_id)
    return await timeline_page(pool, customer_id, None, None, CARD_PAGE_ITEMS)
