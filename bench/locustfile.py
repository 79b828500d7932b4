"""Locust users for the ingest benchmarks, run headless by :mod:`bench.loadgen` and configured by
env vars (reads use wrk: :mod:`bench.wrk`).

``BENCH_SAMPLES``   CSV written at exit: t_start, t_end, name, ok, items (one line per request)
``BENCH_TOKEN``     bearer token (channel role)
``BENCH_RUN``       tag that makes external ids unique per run; ``BENCH_CUSTOMERS`` people
``BENCH_BATCH``     items per batch request; ``BENCH_TOTAL`` stop once that many were accepted
``BENCH_RATE``      requests/s per user (0: as fast as answers come back)
``BENCH_ACKS``      file that gets ``id,t_202,t_posted`` per accepted single item, as it happens
"""

from __future__ import annotations

import itertools
import os
import random
import time
from typing import Any

import gevent
from locust import FastHttpUser, constant, events, task

from bench.pacing import paced
from bench.payloads import batch_body, single_body

ENV = os.environ
TOKEN = ENV.get("BENCH_TOKEN", "")
RUN = ENV.get("BENCH_RUN", "run")
CUSTOMERS = int(ENV.get("BENCH_CUSTOMERS", "10000"))
BATCH = int(ENV.get("BENCH_BATCH", "500"))
TOTAL = int(ENV.get("BENCH_TOTAL", "0"))
RATE = float(ENV.get("BENCH_RATE", "0"))
SAMPLES: list[tuple[float, float, str, int, int]] = []
_slots = itertools.count()
_accepted = 0
_acks = open(ENV["BENCH_ACKS"], "a", buffering=1) if ENV.get("BENCH_ACKS") else None  # noqa: SIM115


@events.quitting.add_listener
def _dump(**_: Any) -> None:
    with open(ENV.get("BENCH_SAMPLES", "samples.csv"), "w") as out:
        out.writelines(f"{a:.6f},{b:.6f},{n},{ok},{k}\n" for a, b, n, ok, k in SAMPLES)


def _reserve(size: int) -> tuple[int, int] | None:
    """The next slice of item numbers, or None once ``BENCH_TOTAL`` are handed out."""
    start = next(_slots) * size
    if TOTAL and start >= TOTAL:
        return None
    return start, min(size, TOTAL - start) if TOTAL else size


def _accepted_items(count: int, user: FastHttpUser) -> None:
    global _accepted
    _accepted += count
    if TOTAL and _accepted >= TOTAL:
        gevent.spawn(user.environment.runner.quit)  # not from this greenlet: it would be killed


class _Base(FastHttpUser):
    abstract = True
    wait_time = paced(RATE) if RATE else constant(0)
    due = 0.0  # when this user's current task was due (``paced``)

    def on_start(self) -> None:
        # A random phase per user: locust starts a spawn step's users at once (bench/pacing.py).
        if RATE:
            gevent.sleep(random.random() / RATE)  # noqa: S311 - a phase, not a secret
        self.due = time.monotonic()

    def _call(self, method: str, path: str, name: str, expect: int, body: bytes | None = None) -> Any:
        headers = {"Authorization": f"Bearer {TOKEN}", "content-type": "application/json"}
        started = time.time()
        with self.client.request(
            method, path, data=body, headers=headers, name=name, catch_response=True
        ) as response:
            ended = time.time()
            ok = response.status_code == expect
            if not ok:
                response.failure(f"{response.status_code}: {(response.text or '')[:200]}")
            return started, ended, ok, response


class BatchIngest(_Base):
    """``POST /v1/interactions/batch`` with ``BENCH_BATCH`` new interactions each."""

    @task
    def post_batch(self) -> None:
        slot = _reserve(BATCH)
        if slot is None:
            gevent.sleep(0.05)
            return
        body = batch_body(RUN, slot[0], slot[1], CUSTOMERS)
        started, ended, ok, response = self._call("POST", "/v1/interactions/batch", "batch", 202, body)
        accepted = response.text.count('"accepted"') if ok else 0
        SAMPLES.append((started, ended, "batch", int(ok), accepted))
        if accepted:
            _accepted_items(accepted, self)


class SingleIngest(_Base):
    """``POST /v1/interactions`` with one new interaction; logs each 202 to ``BENCH_ACKS``."""

    @task
    def post_one(self) -> None:
        slot = _reserve(1)
        if slot is None:
            gevent.sleep(0.05)
            return
        body = single_body(RUN, slot[0], CUSTOMERS)
        started, ended, ok, response = self._call("POST", "/v1/interactions", "single", 202, body)
        SAMPLES.append((started, ended, "single", int(ok), int(ok)))
        if ok:
            if _acks is not None:
                _acks.write(f"{response.json()['id']},{ended:.6f},{started:.6f}\n")
            _accepted_items(1, self)
