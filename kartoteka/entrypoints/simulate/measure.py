"""Run the detectors over simulated staff in-process and score them.

An injection counts as caught when its employee gets an alert of the injection's kind
whose window overlaps the injected period. Every alert that overlaps no injection of its
employee is a false alert; the rate is per 100 employee-days (calendar days x staff).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from kartoteka.entrypoints.simulate.model import Employee, Log, Staff, simulate_normal
from kartoteka.entrypoints.simulate.scenarios import SCENARIOS, Injection
from services.projections.detect.detectors import (
    DEFAULT_CONFIG,
    Alert,
    DetectorConfig,
    EmployeeContext,
    Kind,
    PeerCounts,
    daily_distinct_counts,
)
from services.projections.detect.evaluate import evaluate, span_of

END = date(2026, 11, 2)  # a fixed calendar keeps the figures reproducible


@dataclass
class Run:
    """One simulation: its staff, their accesses, what was injected, what was raised."""

    staff: Staff
    log: Log
    injections: list[Injection]
    alerts: list[Alert] = field(default_factory=list)


def context(emp: Employee) -> EmployeeContext:
    return EmployeeContext(
        employee_id=emp.id, team=emp.team, status=emp.status,  # type: ignore[arg-type]
        notice_given_at=emp.notice_given_at, timezone=emp.timezone, work_hours=emp.hours,
        known_customer_ids=frozenset(emp.known),
    )


def simulate(employees: int, days: int, inject: Sequence[Kind], seed: int,
             end: date = END, progress: bool = False) -> Run:
    """Normal life for everyone, then each scenario injected into its own employee."""
    rng = random.Random(seed)
    staff = Staff(employees, days, end, rng)
    log = Log()
    simulate_normal(staff, log, progress)
    targets = rng.sample([e for e in staff.employees if not e.supervisor], len(inject))
    injections = [SCENARIOS[kind](staff, emp, log) for kind, emp in zip(inject, targets, strict=True)]
    return Run(staff, log, injections)


def detect(run: Run, cfg: DetectorConfig = DEFAULT_CONFIG) -> list[Alert]:
    """Every employee's whole period evaluated at once, peers from the same team."""
    contexts = {e.id: context(e) for e in run.staff.employees}
    daily = {i: daily_distinct_counts(run.log.accesses.get(i, []), c, cfg) for i, c in contexts.items()}
    alerts: list[Alert] = []
    for emp in run.staff.employees:
        accesses = run.log.accesses.get(emp.id, [])
        if not accesses:
            continue
        peers: PeerCounts = {e.id: daily[e.id] for e in run.staff.employees if e.team == emp.team}
        ctx = contexts[emp.id]
        alerts.extend(evaluate(accesses, ctx, span_of(accesses, ctx), cfg, peers=peers))
    run.alerts = alerts
    return alerts


def _overlaps(alert: Alert, injection: Injection) -> bool:
    return alert.window_start < injection.end and alert.window_end > injection.start


def score(run: Run) -> dict[str, Any]:
    """Caught injections by kind, and the alerts that match no injection."""
    by_employee: dict[str, list[Injection]] = defaultdict(list)
    for injection in run.injections:
        by_employee[injection.employee_id].append(injection)
    caught = {
        i.kind: any(a.employee_id == i.employee_id and a.kind == i.kind and _overlaps(a, i)
                    for a in run.alerts)
        for i in run.injections
    }
    false = [a for a in run.alerts if not any(_overlaps(a, i) for i in by_employee[a.employee_id])]
    return {"caught": caught, "false_alerts": false,
            "employee_days": len(run.staff.employees) * run.staff.days}


def benchmark(employees: int, days: int, seeds: Iterable[int], kinds: Sequence[Kind],
              say: Callable[[str], None] = print) -> dict[str, Any]:
    """Recall per scenario over runs with every scenario injected, and false alerts per 100
    employee-days both in those runs and in clean runs with nothing injected."""
    hits: dict[str, list[bool]] = defaultdict(list)
    injected_false = clean_false = injected_days = clean_days = 0
    false_kinds: dict[str, int] = defaultdict(int)
    examples: list[dict[str, Any]] = []
    n_runs = 0
    for n, seed in enumerate(seeds, start=1):
        n_runs = n
        for clean in (False, True):
            run = simulate(employees, days, [] if clean else kinds, seed)
            detect(run)
            result = score(run)
            for alert in result["false_alerts"]:
                false_kinds[alert.kind] += 1
            if clean:
                clean_false += len(result["false_alerts"])
                clean_days += result["employee_days"]
                continue
            injected_false += len(result["false_alerts"])
            injected_days += result["employee_days"]
            for injection in run.injections:
                hits[injection.kind].append(result["caught"][injection.kind])
                examples.append({"seed": seed, "kind": injection.kind, **injection.params,
                                 "caught": result["caught"][injection.kind]})
        say(f"  run {n}: {sum(map(sum, hits.values()))}/{sum(map(len, hits.values()))} caught,"
            f" {injected_false + clean_false} false alerts so far")
    return {
        "employees": employees, "days": days, "runs": n_runs,
        "recall": {kind: round(sum(v) / len(v), 3) for kind, v in sorted(hits.items())},
        "false_alerts_per_100_employee_days": {
            "clean_runs": round(100 * clean_false / max(clean_days, 1), 3),
            "runs_with_injections": round(100 * injected_false / max(injected_days, 1), 3),
        },
        "false_alerts_by_kind": dict(sorted(false_kinds.items())),
        "injections": examples,
    }
