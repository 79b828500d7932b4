"""Reports list customers in bulk: the detectors count every customer a report returned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.projections.detect.detectors import Access, EmployeeContext, detect_breadth

AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _report(action: str, n: int, offset: int) -> Access:
    ids = tuple(f"cust-{offset * 500 + i:06d}" for i in range(n))
    return Access("sup-1", action, ids, AT + timedelta(minutes=offset), f"days=30 count={n}")  # type: ignore[arg-type]


def test_pages_of_a_dormant_report_listing_many_customers_raise_a_breadth_alert() -> None:
    alerts = detect_breadth([_report("report.dormant", 500, page) for page in range(3)],
                            EmployeeContext(employee_id="sup-1", team="leads"))
    assert [a.kind for a in alerts] == ["breadth"]
    assert alerts[0].evidence["distinct_customers"] == 1500


def test_a_short_birthday_report_is_no_bulk_read() -> None:
    assert detect_breadth([_report("report.birthdays", 12, 0)], EmployeeContext(employee_id="sup-1")) == []


def test_activity_reports_name_no_customer_and_count_for_nothing() -> None:
    assert detect_breadth([_report("report.activity", 0, p) for p in range(50)],
                          EmployeeContext(employee_id="sup-1")) == []
