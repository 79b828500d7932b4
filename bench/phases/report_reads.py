"""The reports' part of the read phase: request paths for wrk and the in-process SQL baseline.

The bulk-loaded timeline spans 2023-2025 (:mod:`bench.load`), so activity asks for months of it;
every customer's last contact is then months old, and dormant reports page through all of them.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from psycopg_pool import AsyncConnectionPool

from services.api.birthdays import keys_within
from services.api.queries import reports as report_queries

REPORT_KINDS = ("dormant", "birthdays", "activity")
CALLS = 100
MONTHS = [date(2023 + m // 12, m % 12 + 1, 1) for m in range(36)]


def report_paths(seed: int = 5) -> dict[str, list[str]]:
    """A few hundred varied requests per report (windows, owners, months, groupings)."""
    rng = random.Random(seed)
    paths: dict[str, list[str]] = {k: [] for k in REPORT_KINDS}
    for n in range(300):
        owner = f"&owner=emp-{rng.randrange(40)}" if n % 2 else ""
        paths["dormant"].append(f"/v1/reports/dormant?days={rng.choice((30, 90, 365, 700))}{owner}")
        paths["birthdays"].append(f"/v1/reports/birthdays?within_days={rng.choice((0, 1, 7, 14, 30))}{owner}")
        first = rng.choice(MONTHS)
        last = first + timedelta(days=rng.choice((0, 6, 30)))
        by = ("channel", "agent", "day")[n % 3]
        paths["activity"].append(f"/v1/reports/activity?from={first}&to={last}&by={by}")
    return paths


async def raw_reports(dsn: str) -> dict[str, list[float]]:
    """The reports' own query functions, called in-process one at a time: their SQL floor."""
    rng = random.Random(9)
    timings: dict[str, list[float]] = {f"report:{k}": [] for k in REPORT_KINDS}
    today = datetime.now(UTC).date()
    async with AsyncConnectionPool(dsn, min_size=1, max_size=2) as pool:
        for _ in range(CALLS):
            owner = f"emp-{rng.randrange(40)}" if rng.random() < 0.5 else None
            first = rng.choice(MONTHS)
            calls: dict[str, Any] = {
                "dormant": report_queries.dormant(pool, cutoff=datetime.now(UTC) - timedelta(days=90), owner=owner,
                                                before=None, limit=50),
                "birthdays": report_queries.birthdays(pool, keys=keys_within(today, 7), owner=owner, before=None,
                                                    limit=50),
                "activity": report_queries.activity(pool, start=first, end=first + timedelta(days=30),
                                                  by=rng.choice(("channel", "agent", "day"))),
            }
            for name, call in calls.items():
                started = time.perf_counter()
                await call
                timings[f"report:{name}"].append((time.perf_counter() - started) * 1000)
    return timings
