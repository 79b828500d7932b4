"""Run the detectors over simulated staff in-process and score them.

An injection counts as caught when its employee gets an alert of the injection's kind
whose window overlaps the injected period. Every alert that overlaps no injection of its
employee is a false alert; the rate is per 100 employee-days (calendar days x staff), overall
and for each kind of ordinary work (night shifts, supervisors reviewing their team, agents
covering for an absent colleague, new hires), where the goal is none at all.
"""

from __future__ import annotations

import dataclasses
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
    Access,
    Alert,
    DetectorConfig,
    EmployeeContext,
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


def team_hours(staff: Staff, emp: Employee, log: Log) -> tuple[dict[int, int], int]:
    """Per local hour of ``emp``'s zone, the teammates' days active in it (the worker's query)."""
    days: set[tuple[str, date]] = set()
    hours: dict[int, set[tuple[str, date]]] = defaultdict(set)
    for mate in staff.team_of(emp):
        for access in log.accesses.get(mate.id, []):
            local = access.at.astimezone(emp.zone)
            days.add((mate.id, local.date()))
            hours[local.hour].add((mate.id, local.date()))
    return {h: len(d) for h, d in hours.items()}, len(days)


def context(emp: Employee, staff: Staff | None = None, log: Log | None = None) -> EmployeeContext:
    """What the worker knows of ``emp``: a supervisor's reason covers the team's customers."""
    known = set(emp.known)
    hours: dict[int, int] = {}
    peer_days = 0
    if staff is not None and log is not None:
        if emp.supervisor:
            known.update(c for mate in staff.team_of(emp) for c in mate.known)
        hours, peer_days = team_hours(staff, emp, log)
    return EmployeeContext(
        employee_id=emp.id, team=emp.team, status=emp.status,  # type: ignore[arg-type]
        notice_given_at=emp.notice_given_at, timezone=emp.timezone, schedule=emp.schedule,
        known_customer_ids=frozenset(known), team_hours=hours, team_days=peer_days,
    )


def simulate(employees: int, days: int, inject: Sequence[str], seed: int,
             end: date = END, progress: bool = False) -> Run:
    """Normal life for everyone, then each scenario injected into its own employee."""
    rng = random.Random(seed)
    staff = Staff(employees, days, end, rng)
    log = Log()
    simulate_normal(staff, log, progress)
    ordinary = set(staff.covering) | {e.id for e in staff.employees if e.absent}
    targets = rng.sample([e for e in staff.employees if not e.supervisor and e.id not in ordinary],
                         len(inject))
    injections = [dataclasses.replace(SCENARIOS[name](staff, emp, log), scenario=name)
                  for name, emp in zip(inject, targets, strict=True)]
    return Run(staff, log, injections)


def detect(run: Run, cfg: DetectorConfig = DEFAULT_CONFIG) -> list[Alert]:
    """Every employee's whole period evaluated at once, peers from the same team."""
    staff, log = run.staff, run.log
    contexts = {e.id: context(e, staff, log) for e in staff.employees}
    daily: dict[tuple[str, str, int], dict[date, int]] = {}

    def counts(employee_id: str, ctx: EmployeeContext) -> dict[date, int]:
        """A peer's days counted as the evaluated employee's (as the worker's SQL does)."""
        key = (employee_id, ctx.timezone, ctx.day_start)
        if key not in daily:
            daily[key] = daily_distinct_counts(log.accesses.get(employee_id, []), ctx, cfg)
        return daily[key]

    alerts: list[Alert] = []
    for emp in staff.employees:
        accesses: list[Access] = log.accesses.get(emp.id, [])
        if not accesses:
            continue
        ctx = contexts[emp.id]
        peers: PeerCounts = {e.id: counts(e.id, ctx) for e in staff.employees if e.team == emp.team}
        alerts.extend(evaluate(accesses, ctx, span_of(accesses, ctx), cfg, peers=peers))
    run.alerts = alerts
    return alerts


def _overlaps(alert: Alert, injection: Injection) -> bool:
    return alert.window_start < injection.end and alert.window_end > injection.start


ORDINARY = ("night_shift", "supervisor_review", "covering_colleague", "new_hire")


def groups(staff: Staff) -> dict[str, set[str]]:
    """The kinds of ordinary work, by the employees doing them."""
    return {
        "night_shift": {e.id for e in staff.employees if e.team.startswith("night")},
        "supervisor_review": {e.id for e in staff.employees if e.supervisor},
        "covering_colleague": set(staff.covering),
        "new_hire": {e.id for e in staff.employees if e.first_day > 0},
    }


def score(run: Run) -> dict[str, Any]:
    """Caught injections (in order), and the alerts that match no injection."""
    by_employee: dict[str, list[Injection]] = defaultdict(list)
    for injection in run.injections:
        by_employee[injection.employee_id].append(injection)
    caught = [any(a.employee_id == i.employee_id and a.kind == i.kind and _overlaps(a, i)
                  for a in run.alerts) for i in run.injections]
    false = [a for a in run.alerts if not any(_overlaps(a, i) for i in by_employee[a.employee_id])]
    return {"caught": caught, "false_alerts": false,
            "employee_days": len(run.staff.employees) * run.staff.days}


@dataclass
class Tally:
    """Running totals of a benchmark."""

    hits: dict[str, list[bool]] = field(default_factory=lambda: defaultdict(list))
    false: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    days: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    false_kinds: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    examples: list[dict[str, Any]] = field(default_factory=list)

    def add(self, run: Run, result: dict[str, Any], clean: bool, seed: int) -> None:
        label = "clean_runs" if clean else "runs_with_injections"
        self.false[label] += len(result["false_alerts"])
        self.days[label] += result["employee_days"]
        for name, members in groups(run.staff).items():
            self.false[name] += sum(a.employee_id in members for a in result["false_alerts"])
            self.days[name] += len(members) * run.staff.days
        for alert in result["false_alerts"]:
            self.false_kinds[alert.kind] += 1
        for injection, caught in zip(run.injections, result["caught"], strict=True):
            self.hits[injection.scenario].append(caught)
            self.examples.append({"seed": seed, "scenario": injection.scenario, **injection.params,
                                  "caught": caught})


def benchmark(employees: int, days: int, seeds: Iterable[int], scenarios: Sequence[str],
              say: Callable[[str], None] = print) -> dict[str, Any]:
    """Recall per scenario over runs with every scenario injected, and false alerts per 100
    employee-days in those runs, in clean runs, and per kind of ordinary work."""
    tally, n_runs = Tally(), 0
    for n, seed in enumerate(seeds, start=1):
        n_runs = n
        for clean in (False, True):
            run = simulate(employees, days, [] if clean else scenarios, seed)
            detect(run)
            tally.add(run, score(run), clean, seed)
        caught = sum(map(sum, tally.hits.values()))
        say(f"  run {n}: {caught}/{sum(map(len, tally.hits.values()))} caught,"
            f" {tally.false['clean_runs'] + tally.false['runs_with_injections']} false alerts so far")
    return {
        "employees": employees, "days": days, "runs": n_runs,
        "recall": {name: round(sum(v) / len(v), 3) for name, v in sorted(tally.hits.items())},
        "false_alerts_per_100_employee_days": {
            label: round(100 * tally.false[label] / max(tally.days[label], 1), 3)
            for label in ("clean_runs", "runs_with_injections", *ORDINARY)
        },
        "false_alerts": dict(tally.false),
        "false_alerts_by_kind": dict(sorted(tally.false_kinds.items())),
        "injections": tally.examples,
    }
