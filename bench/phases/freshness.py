"""Freshness: time from the 202 answer to the interaction being visible in the timeline, at a steady
offered load of single POSTs; vs one raw Kafka hop + COPY commit at the same rate."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from bench.baselines import records
from bench.freshness_budget import budget
from bench.loadgen import run_locust
from bench.plan import Context
from bench.rawfresh import raw_freshness
from bench.stack import Stack
from bench.stats import ratio, summary
from kartoteka.auth import Role

POLL_S = 0.01
# Locust users are closed-loop: each waits for its answer. Enough of them that the offered
# rate holds while answers take up to USERS / rate seconds (300 ms at 200/s).
USERS = 60
CUSTOMERS = 20_000


class Visibility:
    """Tails the 202 log locust writes and polls the timeline for the pending ids every 10 ms."""

    def __init__(self, stack: Stack, acks: Path) -> None:
        self.stack, self.acks = stack, acks
        self.pending: dict[str, float] = {}
        self.latencies: dict[str, float] = {}
        self.times: dict[str, dict[str, float]] = {}  # id -> posted, answered, seen (epoch s)
        self.rounds = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="visibility")

    def start(self) -> Visibility:
        self.acks.touch()
        self._thread.start()
        return self

    def finish(self, timeout_s: float) -> None:
        """Wait until every acknowledged id is visible (or time out), then stop."""
        deadline, after = time.monotonic() + timeout_s, self.rounds + 2  # two reads of the whole log
        while time.monotonic() < deadline and (self.pending or self.rounds < after):
            time.sleep(0.05)
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        partial = ""
        with self.stack.connect() as conn, open(self.acks) as log:
            while not self._stop.is_set():
                *lines, partial = (partial + log.read()).split("\n")
                for line in lines:
                    id_, at, posted = line.split(",")
                    self.pending[id_] = float(at)
                    self.times[id_] = {"posted": float(posted), "answered": float(at)}
                if self.pending:
                    rows = conn.execute(
                        "SELECT interaction_id::text FROM timeline WHERE interaction_id = ANY(%s::uuid[])",
                        (list(self.pending),),
                    ).fetchall()
                    now = time.time()
                    for (id_,) in rows:
                        self.latencies[id_] = (now - self.pending.pop(id_)) * 1000
                        self.times[id_]["seen"] = now
                self.rounds += 1
                time.sleep(POLL_S)


def run(ctx: Context, stack: Stack) -> dict[str, Any]:
    plan = ctx.plan
    # 200/s on a stack at rest, not on one still working through an earlier phase's backlog
    # (the duplicate finder scores a drain's 20,000 interactions for a while after the timeline).
    settled_s = stack.wait_caught_up()
    acks = ctx.run_dir / "freshness.acks"
    watch = Visibility(stack, acks).start()
    env = {"BENCH_TOKEN": stack.token(Role.channel, "bench-channel"), "BENCH_RUN": "fresh",
           "BENCH_CUSTOMERS": str(CUSTOMERS), "BENCH_RATE": str(plan.fresh_rate / USERS),
           "BENCH_ACKS": str(acks)}
    load = run_locust("SingleIngest", stack.url("ingest"), USERS, plan.fresh_s, env,
                      ctx.run_dir / "freshness-SingleIngest", stack.pids())
    watch.finish(30)
    latencies = list(watch.latencies.values())
    good = load.ok()
    span = max(s.ended for s in good) - min(s.started for s in good)
    baseline = raw_freshness(stack.settings, "bench.fresh",
                             records("rawfresh", int(plan.fresh_rate * plan.fresh_s), CUSTOMERS),
                             plan.fresh_rate, plan.fresh_s)
    figures = summary(latencies)
    hops = budget(stack.settings, watch.times)
    return {
        "offered_per_s": plan.fresh_rate,
        "settled_s": settled_s,
        "achieved_per_s": round(len(good) / span, 1),
        "accepted": len(good),
        "failures": load.failures,
        "unseen": len(watch.pending),
        "latency_ms": figures,
        "poll_interval_ms": POLL_S * 1000,
        "ingest_latency_ms": summary([s.ms for s in good]),
        "budget": hops,
        "baseline_one_hop": baseline,
        "p99_ratio_to_raw": ratio(figures["p99"], baseline["latency_ms"]["p99"]),
        "cpu_cores": load.cpu,
        "latencies": sorted(round(v, 2) for v in latencies),
    }
