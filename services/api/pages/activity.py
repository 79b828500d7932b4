"""An employee's activity as chart series: pure functions over the audit's counts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from services.api.pages.charts import peer_band

HOURS_SHOWN = 7 * 24
BASELINE_DAYS = 28
DAYS_SHOWN = 30


def hour_slots(end: datetime, count: int = HOURS_SHOWN) -> list[datetime]:
    """The last ``count`` whole hours up to ``end`` (its own hour included), oldest first."""
    last = end.replace(minute=0, second=0, microsecond=0)
    return [last - timedelta(hours=count - 1 - i) for i in range(count)]


def hourly_series(rows: Iterable[dict[str, Any]], employee: str, peers: list[str], slots: list[datetime]
                  ) -> tuple[list[float], list[float], list[tuple[float, float]]]:
    """The employee's counts per slot, their own baseline (mean of that hour of day over the
    counted days) and the peers' 10-90 % band per slot."""
    counts: dict[str, dict[datetime, float]] = defaultdict(dict)
    for row in rows:
        counts[row["employee_id"]][row["hour"]] = float(row["n"])
    own = counts.get(employee, {})
    by_hour_of_day: dict[int, float] = defaultdict(float)
    for hour, n in own.items():
        by_hour_of_day[hour.hour] += n
    baseline = [by_hour_of_day[s.hour] / BASELINE_DAYS for s in slots]
    band = peer_band([[counts.get(p, {}).get(s, 0.0) for s in slots] for p in peers])
    return [own.get(s, 0.0) for s in slots], baseline, band


def daily_series(rows: Iterable[dict[str, Any]], today: date, days: int = DAYS_SHOWN
                 ) -> tuple[list[date], dict[str, list[float]]]:
    """Distinct customers, exports and searches per day for the last ``days`` days, zeros filled."""
    found = {r["day"]: r for r in rows}
    shown = [today - timedelta(days=days - 1 - i) for i in range(days)]
    series = {key: [float(found[d][key]) if d in found else 0.0 for d in shown]
              for key in ("customers", "exports", "searches")}
    return shown, series
