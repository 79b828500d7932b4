"""``python -m bench.single [SECONDS] [--profile NAME]``: the single-delivery figure alone, quickly.

The ingest phase's ``single`` load (one interaction per POST, 16 keep-alive wrk connections,
ingest alone) and its raw baseline (``bench.rawhttp``) in the same run, with the CPU each
process tree used per request (microseconds): on a shared machine the CPU per request says
more about a change than the rate. ``--profile NAME`` py-spies ingest meanwhile and keeps the
collapsed stacks and flame graph as ``bench/results/profiles/profile-NAME-ingest.*``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.phases.ingest import raw_http, single_bodies
from bench.plan import QUICK, Context
from bench.profile import Profiler
from bench.stack import REPO, Stack
from bench.wrk import WrkRun, run_posts
from kartoteka.auth import Role
from tests.support import infra as infra_module


def per_request_us(run: WrkRun) -> dict[str, float]:
    """Microseconds of CPU each process tree used per answered request."""
    done = max(run.requests - run.failures, 1) / max(run.seconds, 1e-6)
    return {name: round(cores / done * 1e6, 1) for name, cores in run.cpu.items()}


def describe(run: WrkRun) -> dict[str, Any]:
    return {"per_s": round((run.requests - run.failures) / max(run.seconds, 1e-6), 1),
            "failures": run.failures, "latency_ms": run.summary(), "cores": run.cpu,
            "cpu_us_per_request": per_request_us(run)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.single", description=__doc__.split("\n")[0])
    parser.add_argument("seconds", type=int, nargs="?", default=QUICK.ingest_s)
    parser.add_argument("--profile", metavar="NAME", help="py-spy ingest, kept as profile-NAME-ingest.*")
    parser.add_argument("--gil", action="store_true", help="profile only the thread holding the GIL")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="an environment variable for ingest, e.g. KARTOTEKA_HTTP_WORKERS=1 (A/B runs)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    run_dir = Path(tempfile.mkdtemp(prefix="kartoteka-single-"))
    plan = replace(QUICK, ingest_s=args.seconds)
    infra = infra_module.start()
    load_before = os.getloadavg()
    try:
        profiler = Profiler(run_dir, bool(args.profile), REPO / "bench" / "results" / "profiles", args.gil)
        ctx = Context(infra, run_dir, plan, profiler)
        stack = Stack(infra, "single", run_dir)
        stack.env.update(pair.split("=", 1) for pair in args.env)
        try:
            stack.start("ingest")
            bodies = single_bodies(run_dir / "single-bodies.txt", plan.ingest_customers)
            token = stack.token(Role.channel, "bench-channel")
            recording = profiler.start(args.profile or "single", {"ingest": stack.procs["ingest"].pid},
                                       plan.ingest_s)
            single = run_posts(stack.url("ingest"), "/v1/interactions", bodies, token, plan.single_users,
                               plan.ingest_s, run_dir / "wrk-single.json", stack.pids())
            profiler.finish(recording)
        finally:
            stack.stop()
        raw = raw_http(ctx, stack, bodies)
    finally:
        infra.stop()
        shutil.rmtree(run_dir, ignore_errors=True)
    report = {"single": describe(single), "raw_http": describe(raw),
              "loadavg": [round(x, 2) for x in (*load_before, *os.getloadavg())]}
    report["ratio_to_raw"] = round(report["single"]["per_s"] / max(report["raw_http"]["per_s"], 1e-6), 3)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
