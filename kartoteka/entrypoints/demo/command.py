"""``kartoteka demo``: load the sample into the running stack with a progress bar, wait until
the cards and timelines show it, and say what to look at."""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from tqdm import tqdm

from kartoteka import preflight
from kartoteka.entrypoints.demo import load
from kartoteka.settings import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--employees", type=int, default=8,
                        help="staff on the roster (at least 8: two per team); about 370 customers each")
    parser.add_argument("--seed", type=int, default=1, help="another seed, another sample")
    parser.add_argument("--wait", type=float, default=120,
                        help="seconds to wait for the timelines and alerts")


def run(settings: Settings, args: argparse.Namespace) -> int:
    preflight.database_reachable(settings.dsn, "is the stack running (`make run`)?")
    preflight.broker_reachable(settings.bootstrap, "is the stack running (`make run`)?")
    sample = load.build(settings, max(8, args.employees), args.seed, datetime.now(UTC))
    contacts, staff = len(sample.interactions), len(sample.run.staff.employees)
    total = contacts + staff + sample.run.log.count()
    with tqdm(total=total, desc="sending", unit="event", dynamic_ncols=True) as bar:
        load.send_interactions(settings, sample.interactions, bar.update)
        load.send_staff(sample, bar.update)
    tag = sample.publisher.tag
    with tqdm(total=contacts, desc="on the timelines", unit="contact", dynamic_ncols=True) as bar:
        deadline = time.monotonic() + args.wait
        while (shown := load.on_timelines(settings, tag)) < contacts and time.monotonic() < deadline:
            bar.update(shown - bar.n)
            time.sleep(0.5)
        bar.update(shown - bar.n)
    suspects = [employee for employee, _ in sample.suspicious]
    deadline = time.monotonic() + max(0.0, args.wait / 2)
    # Wait for the alert each suspect was staged for, not just any alert: a quicker detector
    # (no business reason) often fires first, and stopping then would hide the staged one.
    while not all(kind in (alerts := load.alerts_for(settings, suspects)).get(employee, [])
                  for employee, kind in sample.suspicious) and time.monotonic() < deadline:
        time.sleep(1)
    name, phone, customer_id = load.example(sample, args.seed)
    customers = len({i["customer"]["phone"] for i in sample.interactions})
    print(f"demo loaded: {customers:,} customers, {contacts:,} contacts (calls, e-mails, chats, "
          f"SMS, web forms), {staff} employees, {sample.run.log.count():,} accesses over a week")
    print(f"look up {name} ({phone}): customer {customer_id}")
    for employee, kind in sample.suspicious:
        raised = ", ".join(sorted(set(alerts.get(employee, [])))) or "not yet (the detect worker paces itself)"
        print(f"suspicious {employee} ({kind.replace('_', ' ')}): alerts {raised}")
    return 0 if shown >= contacts else 1
