"""How the worker and the replay turn history into alerts: span, overlap, dedup, raised time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from services.projections.detect.detectors import Access, EmployeeContext
from services.projections.detect.evaluate import (
    evaluate,
    span_of,
    strongest,
    to_event,
    unraised,
)

MSK = ZoneInfo("Europe/Moscow")
CTX = EmployeeContext("emp-1")


def exports(day: int, n: int, hour: int = 11) -> list[Access]:
    at = datetime(2026, 10, 5 + day, hour, 0, tzinfo=MSK)
    return [Access("emp-1", "customer.export", (f"c-{day}-{k}",), at + timedelta(minutes=k), None, k)
            for k in range(n)]


def test_the_span_runs_from_local_midnight_to_local_midnight() -> None:
    span = span_of(exports(0, 1, hour=1), CTX)
    assert span == (datetime(2026, 10, 4, 21, 0, tzinfo=UTC), datetime(2026, 10, 5, 21, 0, tzinfo=UTC))


def test_only_alerts_overlapping_the_span_are_raised_again() -> None:
    history = exports(0, 8) + exports(3, 9)
    today = span_of(exports(3, 1), CTX)
    [alert] = evaluate(history, CTX, today)
    assert alert.kind == "bulk_export" and alert.evidence["exports"] == 9
    assert len(evaluate(history, CTX, span_of(history, CTX))) == 2


def test_a_partial_day_and_the_whole_day_raise_the_same_alert_id() -> None:
    morning = evaluate(exports(0, 6), CTX, span_of(exports(0, 1), CTX))
    evening = evaluate(exports(0, 20), CTX, span_of(exports(0, 1), CTX))
    assert [a.id for a in morning] == [a.id for a in evening]
    assert [a.severity for a in strongest(morning + evening)] == [evening[0].severity]
    assert unraised(evening, {morning[0].id: 0}) == ([evening[0]] if evening[0].severity != "low" else [])


def test_the_raised_time_is_the_last_access_seen_not_the_clock() -> None:
    history = exports(0, 7)
    [alert] = evaluate(history, CTX, span_of(history, CTX))
    assert to_event(alert, history).raised_at == history[-1].at
    later = history + exports(2, 1)
    assert to_event(alert, later).raised_at == history[-1].at
