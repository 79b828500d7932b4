"""``kartoteka simulate-staff``: one run evaluated in-process (and optionally produced to
Kafka), or with ``--runs`` the detector benchmark written to a JSON file."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kartoteka.entrypoints.simulate.measure import END, benchmark, detect, score, simulate
from kartoteka.entrypoints.simulate.scenarios import SCENARIOS
from kartoteka.settings import Settings


def say(text: str) -> None:
    print(text, end="" if text.startswith("\r") else "\n", flush=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--employees", type=int, default=50)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--inject", nargs="*", default=[], choices=[*SCENARIOS, "all"],
                        metavar="SCENARIO", help=f"one or more of: all, {', '.join(SCENARIOS)}")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=0,
                        help="benchmark: this many runs with every --inject scenario, plus clean runs")
    parser.add_argument("--out", type=Path, default=Path("bench/results/detectors.json"))
    parser.add_argument("--produce", action="store_true",
                        help="also write the run to Kafka (employees.v1, access.v1)")
    parser.add_argument("--with-interactions", action="store_true",
                        help="with --produce: the interactions behind each agent's customers too")


def _kinds(args: argparse.Namespace) -> list[str]:
    return list(SCENARIOS) if "all" in args.inject else list(dict.fromkeys(args.inject))


def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.employees < len(_kinds(args)) + 5 or args.days < 7:
        print("need at least 7 days and 5 employees more than scenarios", file=sys.stderr)
        return 2
    if args.runs:
        return _benchmark(args)
    return _one_run(settings, args)


def _one_run(settings: Settings, args: argparse.Namespace) -> int:
    end = datetime.now(UTC).date() if args.produce else END
    say(f"simulating {args.employees} employees over {args.days} days (seed {args.seed})")
    sim = simulate(args.employees, args.days, _kinds(args), args.seed, end, progress=True)
    alerts = detect(sim)
    result = score(sim)
    for injection, found in zip(sim.injections, result["caught"], strict=True):
        caught = "caught" if found else "MISSED"
        say(f"  {injection.scenario:<20} {injection.employee_id}  {caught}  {injection.params}")
    per_100 = 100 * len(result["false_alerts"]) / result["employee_days"]
    say(f"{len(alerts)} alerts {dict(Counter(a.kind for a in alerts))};"
        f" false alerts: {len(result['false_alerts'])} ({per_100:.2f} per 100 employee-days)")
    if args.produce:
        _produce(settings, sim, args)
    return 0


def _produce(settings: Settings, sim: Any, args: argparse.Namespace) -> None:
    from kartoteka.entrypoints.simulate.publish import Publisher

    publisher = Publisher(settings, f"{args.seed}-{sim.staff.start.isoformat()}", say)
    staff, log = sim.staff, sim.log
    if args.with_interactions:
        total = sum(len(e.known) for e in staff.employees)
        records = (r for e in staff.employees
                   for r in publisher.interactions(staff, e, log.accesses.get(e.id, [])))
        publisher.produce(records, total, "interactions")
    publisher.produce(publisher.employees(staff), len(staff.employees), "employee changes")
    records = (r for e in staff.employees for r in publisher.accesses(e, log.accesses.get(e.id, [])))
    publisher.produce(records, log.count(), "access events")


def _benchmark(args: argparse.Namespace) -> int:
    kinds = _kinds(args) or list(SCENARIOS)
    say(f"benchmark: {args.runs} runs of {args.employees} employees x {args.days} days,"
        f" each with {len(kinds)} scenarios injected, and as many clean runs")
    figures = benchmark(args.employees, args.days, range(args.seed, args.seed + args.runs), kinds,
                        say)
    figures["generated_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    say("recall per scenario:")
    for kind, recall in figures["recall"].items():
        say(f"  {kind:<20} {recall:.2f}")
    rates = figures["false_alerts_per_100_employee_days"]
    say("false alerts per 100 employee-days: " + ", ".join(f"{k} {v:.3f}" for k, v in rates.items()))
    say(f"false alerts by kind: {figures['false_alerts_by_kind']}")
    say(f"written to {args.out}")
    return 0
