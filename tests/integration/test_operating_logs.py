"""An alert raised and an employee's status change each leave one log line (issue 19)."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

import pytest

from events.audit.records import alert_record
from events.catalog import AlertRaised
from tests.support.audit import count
from tests.support.kafka_tools import produce
from tests.support.workers import running, wait_until

pytestmark = pytest.mark.integration


def test_alerts_and_status_changes_are_logged_once_committed(settings, api, auth, caplog):
    caplog.set_level(logging.INFO)
    body = {"status": "notice_given", "team": "retail"}
    assert api.post("/v1/employees/emp-log/status", json=body,
                    headers=auth("admin", "adm-1")).status_code == 202
    now = datetime.now(UTC)
    alert = AlertRaised(id=str(uuid.uuid4()), employee_id="emp-log", kind="breadth",
                        severity="high", score=0.8, window_start=now, window_end=now, raised_at=now)
    record = alert_record(alert, "tests")
    produce(settings, settings.topic(record.topic), [(record.key, record.value, list(record.headers))])
    with running(settings, ("employees", "alerts")):
        wait_until(lambda: count(settings.dsn, "SELECT count(*) FROM alerts") == 1, message="alert")
        wait_until(lambda: count(settings.dsn, "SELECT count(*) FROM employees") == 1, message="status")
    raised = [r for r in caplog.records if r.getMessage() == "alert raised"]
    assert [(r.employee_id, r.kind, r.severity) for r in raised] == [("emp-log", "breadth", "high")]
    changed = [r for r in caplog.records if r.getMessage() == "employee status changed"]
    assert [(r.employee_id, r.status) for r in changed] == [("emp-log", "notice_given")]
