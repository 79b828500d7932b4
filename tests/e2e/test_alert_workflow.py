"""The alert workflow end to end: raised on alerts.v1 -> listed -> worked by an officer (events on
alerts.v1, access records) -> a false positive suppresses its pattern, visibly."""

from __future__ import annotations

import json
import uuid

import pytest

from events import topics
from tests.support.alerts import raise_alert
from tests.support.kafka_tools import read_all
from tests.support.work import access_actions
from tests.support.workers import running, wait_until

pytestmark = pytest.mark.integration
WORKERS = ("alerts", "audit")


def _listed(api, auth, officer: str = "sec-1", **params) -> list[dict]:
    answer = api.get("/v1/audit/alerts", params=params, headers=auth("security_officer", officer))
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def _status_of(api, auth, alert_id: str, employee: str, status: str) -> dict:
    return wait_until(lambda: next((a for a in _listed(api, auth, employee_id=employee, status=status)
                                    if a["id"] == alert_id), None),
                      message=f"alert {alert_id} {status}")


def _post(api, auth, alert_id: str, status: str, officer: str = "sec-1", comment: str = "checked"):
    return api.post(f"/v1/audit/alerts/{alert_id}/status", json={"status": status, "comment": comment},
                    headers=auth("security_officer", officer))


def test_an_officer_works_an_alert_to_its_end_with_every_change_published_and_audited(settings, api, auth):
    employee = f"emp-{uuid.uuid4().hex[:8]}"
    with running(settings, WORKERS):
        alert_id = raise_alert(settings, employee)
        assert _status_of(api, auth, alert_id, employee, "open")["kind"] == "off_hours"
        acked = _post(api, auth, alert_id, "acknowledged")
        assert acked.status_code == 202, acked.text
        _status_of(api, auth, alert_id, employee, "acknowledged")
        assert _post(api, auth, alert_id, "resolved", comment="talked to them").status_code == 202
        done = _status_of(api, auth, alert_id, employee, "resolved")
        assert (done["status_by"], done["status_comment"]) == ("sec-1", "talked to them")
        late = _post(api, auth, alert_id, "false_positive")
        assert late.status_code == 409 and late.json()["error"]["code"] == "invalid_transition"
        one = api.get(f"/v1/audit/alerts/{alert_id}", headers=auth("security_officer", "sec-1")).json()
        assert [(c["status"], c["applied"]) for c in one["history"]] == [("acknowledged", True),
                                                                         ("resolved", True)]
        access_actions(api, auth, "sec-1", {"audit.alert_status", "audit.alerts", "audit.alert"})
    changes = [json.loads(r.value) for r in read_all(settings, settings.topic(topics.ALERTS))
               if r.key == employee.encode()]
    assert [c["data"].get("status") for c in changes if "status_changed" in c["type"]] == [
        "acknowledged", "resolved"]


def test_a_false_positive_suppresses_the_same_pattern_visibly_but_not_a_worse_or_another_one(
    settings, api, auth
):
    employee = f"emp-{uuid.uuid4().hex[:8]}"
    with running(settings, WORKERS):
        first = raise_alert(settings, employee, severity="medium")
        _status_of(api, auth, first, employee, "open")
        answer = _post(api, auth, first, "false_positive", comment="night shift agreed")
        assert answer.status_code == 202 and answer.json()["suppress_until"]
        dismissed = _status_of(api, auth, first, employee, "false_positive")
        assert dismissed["suppression"]["kind"] == "off_hours"
        same = raise_alert(settings, employee, severity="low")
        other_kind = raise_alert(settings, employee, kind="breadth", severity="low")
        worse = raise_alert(settings, employee, severity="critical")
        silenced = _status_of(api, auth, same, employee, "suppressed")
        assert silenced["suppressed_by"] == first
        _status_of(api, auth, other_kind, employee, "open")
        _status_of(api, auth, worse, employee, "open")
        shown = api.get("/v1/audit/suppressions", params={"employee_id": employee},
                        headers=auth("security_officer", "sec-2")).json()["items"]
        assert [(s["alert_id"], s["kind"], s["suppressed_alerts"], s["comment"]) for s in shown] == [
            (first, "off_hours", 1, "night shift agreed")]


def test_an_officers_alert_on_themself_is_shown_only_to_another_officer(settings, api, auth):
    officer = f"sec-{uuid.uuid4().hex[:8]}"
    with running(settings, WORKERS):
        alert_id = raise_alert(settings, officer, kind="volume_spike")
        _status_of(api, auth, alert_id, officer, "open")  # seen by sec-1
        assert all(a["employee_id"] != officer for a in _listed(api, auth, officer=officer))
        assert _listed(api, auth, officer=officer, employee_id=officer) == []
        own = api.get(f"/v1/audit/alerts/{alert_id}", headers=auth("security_officer", officer))
        assert own.status_code == 404
        assert _post(api, auth, alert_id, "false_positive", officer=officer).status_code == 404
        assert _post(api, auth, alert_id, "acknowledged", officer="sec-1").status_code == 202


def test_workflow_routes_admit_security_officers_only(api, auth):
    alert_id = str(uuid.uuid4())
    for role in ("agent", "supervisor", "admin", "channel"):
        headers = auth(role, f"x-{role}")
        assert api.post(f"/v1/audit/alerts/{alert_id}/status", json={"status": "resolved"},
                        headers=headers).status_code == 403
        assert api.get("/v1/audit/suppressions", headers=headers).status_code == 403
        assert api.get(f"/v1/audit/alerts/{alert_id}", headers=headers).status_code == 403
    officer = auth("security_officer", "sec-1")
    assert api.post(f"/v1/audit/alerts/{alert_id}/status", json={"status": "resolved"},
                    headers=officer).status_code == 404
    assert api.post(f"/v1/audit/alerts/{alert_id}/status", json={"status": "open"},
                    headers=officer).status_code == 422
