"""Loading the demo into a running stack: the roster, a week of contacts, a week of accesses.

The contacts go through ingest's HTTP batch endpoint, as a channel would send them. The
roster and the accesses carry historical times that no HTTP route accepts (the api stamps
its own accesses with the present), so they go to employees.v1 and access.v1 the way
``kartoteka simulate-staff --produce`` writes them. Every id is derived from the seed and the
day: a second load of the same seed on the same day changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg

from kartoteka.auth import Role, mint
from kartoteka.entrypoints.demo.sample import contacts, person
from kartoteka.entrypoints.simulate.measure import Run, simulate
from kartoteka.entrypoints.simulate.publish import Publisher
from kartoteka.exits import UNREACHABLE, Refusal
from kartoteka.settings import Settings
from services.projections.detect.detectors import Kind

SUSPICIOUS: tuple[Kind, ...] = ("breadth", "enumeration")  # caught in every trial week (simulate-staff figures)
DAYS = 8
BATCH = 500

Progress = Callable[[int], None]


@dataclass
class Sample:
    """What one load sends."""

    run: Run
    publisher: Publisher
    interactions: list[dict[str, Any]]

    @property
    def suspicious(self) -> list[tuple[str, str]]:
        return [(i.employee_id, i.kind) for i in self.run.injections]


def build(settings: Settings, employees: int, seed: int, now: datetime) -> Sample:
    run = simulate(employees, DAYS, list(SUSPICIOUS), seed, now.date())
    publisher = Publisher(settings, f"demo-{seed}", say=lambda _: None)
    return Sample(run, publisher, list(_interactions(run, publisher, seed, now)))


def _interactions(run: Run, publisher: Publisher, seed: int, now: datetime) -> Iterator[dict[str, Any]]:
    """Each customer an employee knows: the call that revealed them, then more contacts."""
    staff = run.staff
    week_start = datetime.combine(staff.start, datetime.min.time(), tzinfo=UTC)
    for emp in staff.employees:
        first_seen = {c: a.at for a in run.log.accesses.get(emp.id, []) for c in a.customer_ids}
        for customer in sorted(emp.known):
            if customer in emp.portfolio:  # served before the week began
                at = week_start - timedelta(hours=1 + sum(map(ord, customer)) % 72)
            else:
                at = first_seen.get(customer, week_start) - timedelta(minutes=2)
            at = min(at, now - timedelta(minutes=1))  # a night shift may not have ended yet
            external_id = f"sim-{publisher.tag}-{customer}-0"
            yield from contacts(customer, emp.id, at, now, seed, external_id)


def send_interactions(settings: Settings, items: list[dict[str, Any]], advance: Progress) -> None:
    token = mint(settings.secret, "demo-loader", Role.channel, 3600)
    url = f"http://{settings.host}:{settings.ingest_port}/v1/interactions/batch"
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        for start in range(0, len(items), BATCH):
            chunk = items[start:start + BATCH]
            answer = _post(client, url, {"items": chunk})
            refused = [r for r in answer.json().get("results", []) if r.get("status") not in
                       ("accepted", "duplicate")]
            if refused:
                raise RuntimeError(f"ingest refused demo items: {refused[:3]}")
            advance(len(chunk))


def _post(client: httpx.Client, url: str, body: dict[str, Any]) -> httpx.Response:
    for attempt in range(5):  # 503 means "not acknowledged, retry" (broker restarting)
        try:
            answer = client.post(url, json=body)
        except httpx.TransportError as exc:
            raise Refusal(UNREACHABLE, f"ingest at {url} cannot be reached ({exc}): is the stack "
                                       "running (`make run`)?") from None
        if answer.status_code != 503:
            answer.raise_for_status()
            return answer
        time.sleep(0.5 * 2**attempt)
    answer.raise_for_status()
    return answer


def send_staff(sample: Sample, advance: Progress) -> None:
    run, publisher = sample.run, sample.publisher
    publisher.produce(publisher.employees(run.staff), len(run.staff.employees), "employees")
    advance(len(run.staff.employees))
    records = (r for e in run.staff.employees
               for r in publisher.accesses(e, run.log.accesses.get(e.id, [])))
    publisher.produce(records, run.log.count(), "accesses")
    advance(run.log.count())


def on_timelines(settings: Settings, tag: str) -> int:
    """How many of the demo's contacts the timeline shows so far."""
    with psycopg.connect(settings.dsn, connect_timeout=5) as conn:
        row = conn.execute("SELECT count(*) FROM timeline WHERE external_id LIKE %s",
                           (f"sim-{tag}-%",)).fetchone()
    return int(row[0]) if row else 0


def alerts_for(settings: Settings, employees: list[str]) -> dict[str, list[str]]:
    with psycopg.connect(settings.dsn, connect_timeout=5) as conn:
        rows = conn.execute("SELECT employee_id, kind FROM alerts WHERE employee_id = ANY(%s)"
                            " ORDER BY raised_at", (employees,)).fetchall()
    found: dict[str, list[str]] = {}
    for employee, kind in rows:
        found.setdefault(employee, []).append(kind)
    return found


def example(sample: Sample, seed: int) -> tuple[str, str, str]:
    """A customer with the most contacts to look at: name, phone and id."""
    contacts_of: dict[str, int] = {}
    for item in sample.interactions:  # later contacts are "<first contact's id>-<n>"
        first = item["external_id"].rsplit("-", 1)[0] if item["channel"] != "call" or \
            not item["external_id"].endswith("-0") else item["external_id"]
        contacts_of[first] = contacts_of.get(first, 0) + 1
    tag = sample.publisher.tag
    customer = max(sorted(sample.run.staff.employees[0].portfolio),
                   key=lambda c: contacts_of.get(f"sim-{tag}-{c}-0", 0))
    who = person(customer, seed)
    return who.name, who.phone, sample.publisher.customer_id(customer)
