"""``make bench`` / ``python -m bench.run [--quick] [--scale quick|full] [--only ...] [--profile]``.

Starts its own embedded PostgreSQL and Tansu (``tests.support.infra``), runs the real services and
workers as real processes, measures each figure next to its raw baseline and writes
``bench/results/latest.json``, ``latest.md`` and ``latest.png``.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import shutil
import subprocess
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import chart, report
from bench.phases import channels, drain, duplicates, freshness, ingest, reads, replay
from bench.plan import Context, Plan, plan_for
from bench.profile import Profiler
from bench.stack import REPO, Stack
from services.projections.registry import names as worker_names
from tests.support import infra as infra_module

PHASES = ("ingest", "drain", "freshness", "replay", "reads", "channels", "duplicates")
PIPELINE = ("ingest", *worker_names())  # every worker ``kartoteka up`` runs


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="short phases: about 4 minutes in all")
    parser.add_argument("--scale", choices=("quick", "full"), default="quick",
                        help="read dataset: quick = 100k customers / 1M interactions, full = 1M / 10M")
    parser.add_argument("--only", default=",".join(PHASES), help=f"comma-separated subset of {PHASES}")
    parser.add_argument("--profile", action="store_true", help="py-spy the services during the phases")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    parser.add_argument("--keep", action="store_true", help="keep the run directory (logs, samples)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override one field of the plan (bench/plan.py), e.g. --set drain_records=5000")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("kafka").setLevel(logging.ERROR)  # its selector warns when CPU is short
    phases = [p for p in PHASES if p in args.only.split(",")]
    if "replay" in phases and "drain" not in phases:
        phases.insert(phases.index("replay"), "drain")  # replay rebuilds what the drain produced
    plan = _override(plan_for(args.quick, args.scale), args.set)
    run_dir = Path(tempfile.mkdtemp(prefix="kartoteka-bench-"))
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"started_at": datetime.now(UTC).isoformat(timespec="seconds"),
                               "plan": asdict(plan), "machine": _machine()}
    started = time.monotonic()
    print(f"bench: plan {plan.name}, phases {', '.join(phases)}; run dir {run_dir}", flush=True)
    infra = infra_module.start()
    try:
        ctx = Context(infra, run_dir, plan, Profiler(run_dir, args.profile, args.out / "profiles"))
        _run_phases(ctx, phases, results)
    finally:
        infra.stop()
        if not args.keep:
            shutil.rmtree(run_dir, ignore_errors=True)
    results["machine"]["loadavg_after"] = _loadavg()
    results["seconds"] = round(time.monotonic() - started, 1)
    json_path, md_path = report.write(results, args.out)
    chart.draw(results, args.out / "latest.png")
    _print_targets(results, md_path)
    return 0


def _run_phases(ctx: Context, phases: list[str], results: dict[str, Any]) -> None:
    if "ingest" in phases:
        _phase("ingest", lambda: ingest.run(ctx), results)
    pipeline_phases = [p for p in ("drain", "freshness", "replay") if p in phases]
    if pipeline_phases:
        stack = Stack(ctx.infra, "pipeline", ctx.run_dir)
        try:
            stack.start(*PIPELINE)
            steps: dict[str, Callable[[], dict[str, Any]]] = {
                "drain": lambda: drain.run(ctx, stack),
                "freshness": lambda: freshness.run(ctx, stack),
                "replay": lambda: replay.run(ctx, stack),
            }
            for name in pipeline_phases:
                _phase(name, steps[name], results)
        finally:
            stack.stop()
    if "reads" in phases:
        _phase("reads", lambda: reads.run(ctx), results)
    if "channels" in phases:
        _phase("channels", lambda: channels.run(ctx), results)
    if "duplicates" in phases:
        _phase("duplicates", lambda: duplicates.run(ctx), results)


def _phase(name: str, body: Callable[[], dict[str, Any]], results: dict[str, Any]) -> None:
    print(f"bench: {name} ...", flush=True)
    started = time.monotonic()
    try:
        results[name] = body()
    except Exception as exc:  # one broken phase must not hide the others' figures
        traceback.print_exc()
        results[name] = {"error": f"{type(exc).__name__}: {exc}"}
    results[name]["phase_seconds"] = round(time.monotonic() - started, 1)
    print(f"bench: {name} done in {results[name]['phase_seconds']} s", flush=True)


def _override(plan: Plan, pairs: list[str]) -> Plan:
    changes: dict[str, Any] = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        current = getattr(plan, key)  # an unknown field fails loudly here
        changes[key] = type(current)(value)
    return replace(plan, **changes) if changes else plan


def _loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _machine() -> dict[str, Any]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True)
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(memory_kb / 1024 / 1024, 1),
        "loadavg_before": _loadavg(),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "commit": (commit.stdout.strip() or "unknown") + ("+dirty" if dirty.stdout.strip() else ""),
    }


def _print_targets(results: dict[str, Any], md_path: Path) -> None:
    print(f"\nbench: {results['seconds']:.0f} s; report {md_path}")
    for t in results["targets"]:
        met = {True: "met", False: "MISSED", None: "not measured"}[t["met"]]
        print(f"  {t['target']:<34} {t['value']!s:>10} {t['unit']:<3} ({t['op']} {t['goal']}) {met}")


if __name__ == "__main__":
    raise SystemExit(main())
