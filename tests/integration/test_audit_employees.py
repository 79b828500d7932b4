"""Employee status: carried on employees.v1, projected, and `left` refused on every route."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from events import topics
from tests.support.audit import rows
from tests.support.data import interaction
from tests.support.kafka_tools import read_all
from tests.support.workers import running, wait_until

pytestmark = pytest.mark.integration


def _status(api, auth, employee: str, **body) -> dict:
    answer = api.post(f"/v1/employees/{employee}/status", json=body, headers=auth("admin", "adm-1"))
    assert answer.status_code == 202, answer.text
    return answer.json()


def _search(client, auth, employee: str) -> int:
    return client.get("/v1/customers", params={"q": "Петрова"}, headers=auth("agent", employee)).status_code


def test_a_departed_employee_is_refused_at_once_by_the_api_that_was_told(settings, api, auth):
    assert _search(api, auth, "emp-leaving") == 200
    _status(api, auth, "emp-leaving", status="left")
    answer = api.get("/v1/customers", params={"q": "x"}, headers=auth("agent", "emp-leaving"))
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "employee_left"
    for path in ("/v1/audit/verify", "/v1/audit/alerts", "/v1/audit/access"):
        refused = api.get(path, headers=auth("security_officer", "emp-leaving"))
        assert refused.status_code == 403, path
    assert _search(api, auth, "emp-staying") == 200


def test_other_processes_refuse_the_departed_employee_within_seconds(settings, api, auth):
    from services.api.app import create_app
    from services.ingest.app import create_app as create_ingest

    with TestClient(create_app(settings)) as other, TestClient(create_ingest(settings)) as ingest:
        assert _search(other, auth, "emp-gone") == 200
        _status(api, auth, "emp-gone", status="left", team="retail", role="supervisor")
        with running(settings, ("employees",)):
            wait_until(lambda: _search(other, auth, "emp-gone") == 403, timeout_s=15,
                       message="the other api refuses")
            posted = ingest.post("/v1/interactions", json=interaction(),
                                 headers=auth("channel", "emp-gone"))
            assert posted.status_code == 403
            assert posted.json()["error"]["code"] == "employee_left"


def test_the_change_is_on_kafka_and_projected_with_team_role_and_notice(settings, api, auth):
    effective = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    _status(api, auth, "emp-7", status="active", team="retail", role="agent",
            timezone="Asia/Yekaterinburg", work_hours=[9, 18])
    _status(api, auth, "emp-7", status="notice_given", effective_at=effective.isoformat())
    events = [json.loads(r.value) for r in read_all(settings, settings.topic(topics.EMPLOYEES))]
    assert [e["data"]["status"] for e in events] == ["active", "notice_given"]
    assert events[1]["data"]["changed_by"] == "adm-1"
    with running(settings, ("employees",)):
        row = wait_until(
            lambda: [r for r in rows(settings.dsn, "SELECT * FROM employees")
                     if r["status"] == "notice_given"],
            message="projected",
        )[0]
    assert (row["team"], row["role"], row["timezone"]) == ("retail", "agent", "Asia/Yekaterinburg")
    assert (row["work_start"], row["work_end"]) == (9, 18)
    assert row["notice_given_at"] == effective
    assert _search(api, auth, "emp-7") == 200  # notice given is not gone


def test_a_departure_dated_in_the_future_is_not_refused_yet_and_reinstatement_lets_in(
    settings, api, auth
):
    later = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    _status(api, auth, "emp-8", status="left", effective_at=later)
    assert _search(api, auth, "emp-8") == 200
    _status(api, auth, "emp-8", status="left")
    assert _search(api, auth, "emp-8") == 403
    _status(api, auth, "emp-8", status="active")
    assert _search(api, auth, "emp-8") == 200


@pytest.mark.parametrize(
    "body",
    [
        {"status": "fired"},
        {"status": "left", "team": ""},
        {"status": "left", "effective_at": "2026-11-02T09:00:00"},  # no offset
        {"status": "left", "timezone": "Mars/Olympus"},
        {"status": "left", "work_hours": [8, 24]},
        {"status": "left", "salary": 1},
        {},
    ],
)
def test_a_malformed_status_change_is_refused_with_a_reason(api, auth, body):
    answer = api.post("/v1/employees/emp-1/status", json=body, headers=auth("admin", "adm-1"))
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "invalid_request"


def test_a_schedule_is_kept_from_when_it_takes_effect_and_a_bad_one_is_refused(settings, api, auth):
    effective = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)
    _status(api, auth, "emp-night", status="active", team="night",
            schedule="2/2 20:00-08:00 Europe/Moscow", effective_at=effective.isoformat())
    _status(api, auth, "emp-night", status="active", role="agent")  # keeps the schedule
    refused = api.post("/v1/employees/emp-night/status", json={"status": "active", "schedule": "2/2 20-8"},
                       headers=auth("admin", "adm-1"))
    assert refused.status_code == 422 and "time zone" in refused.text
    with running(settings, ("employees",)):
        row = wait_until(lambda: [r for r in rows(settings.dsn, "SELECT * FROM employees WHERE"
                                                  " employee_id = 'emp-night' AND role = 'agent'")],
                         message="projected")[0]
    assert (row["schedule"], row["schedule_from"]) == ("2/2 20:00-08:00 Europe/Moscow", effective)
