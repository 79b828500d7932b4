"""Route coverage, roles and answers of the audit, employee and export routes (HTTP in, HTTP out)."""

from __future__ import annotations

import json
import uuid

import pytest
from fastapi.testclient import TestClient

from events import topics
from services.api.audited_routes import AUDITED, NO_CUSTOMER_DATA, route_keys, undeclared
from tests.support.data import interaction, unique_phone
from tests.support.kafka_tools import read_opened
from tests.support.work import customer_through_pipeline
from tests.support.workers import running, wait_until

pytestmark = pytest.mark.integration
CUSTOMER = "00000000-0000-4000-8000-000000000001"
CALLS = {
    "customer.search": ("agent", "/v1/customers", {"q": "Петрова"}),
    "customer.card": ("agent", f"/v1/customers/{CUSTOMER}", {}),
    "customer.timeline": ("supervisor", f"/v1/customers/{CUSTOMER}/timeline", {}),
    "customer.export": ("supervisor", f"/v1/customers/{CUSTOMER}/export", {}),
    "audit.access": ("security_officer", "/v1/audit/access", {"customer_id": CUSTOMER}),
    "audit.alerts": ("security_officer", "/v1/audit/alerts", {}),
    "audit.verify": ("security_officer", "/v1/audit/verify", {}),
    "audit.alert": ("security_officer", f"/v1/audit/alerts/{CUSTOMER}", {}),
    "audit.suppressions": ("security_officer", "/v1/audit/suppressions", {}),
    "request.list": ("agent", "/v1/requests", {"status": "open"}),
    "task.list": ("agent", "/v1/tasks", {}),
    "report.dormant": ("supervisor", "/v1/reports/dormant", {"days": 30}),
    "report.birthdays": ("supervisor", "/v1/reports/birthdays", {}),
    "report.activity": ("supervisor", "/v1/reports/activity", {}),
    "duplicate.list": ("supervisor", "/v1/duplicates", {}),
}
# The agent's writes need a real customer (and a request and a task to change): see below.
WRITES = ("customer.note", "customer.profile", "request.open", "request.status", "task.create", "task.done",
          "employee.handover", "customer.hold", "customer.erase")
# An officer's status change needs an alert to change: tests/e2e/test_alert_workflow.py.
WORKFLOW = ("audit.alert_status",)
# A review decision needs a proposal from the duplicate finder: tests/integration/test_duplicates.py
# reads their access records.
DECISIONS = ("duplicate.accept", "duplicate.reject")
# One proposal's page (a signed-in supervisor's session): tests/browser/test_duplicates_paging.py
# reads its access record.
PAGES = ("duplicate.read",)


def test_every_route_is_declared_audited_or_free_of_customer_data(api):
    missing = undeclared(api.app)
    assert not missing, (
        f"routes neither audited nor declared free of customer data: {sorted(missing)}; "
        "add them to services/api/audited_routes.py (AUDITED needs a record() call in the route)"
    )
    assert set(AUDITED) <= route_keys(api.app), "AUDITED names a route the app no longer has"
    assert not set(AUDITED) & set(NO_CUSTOMER_DATA)


def test_every_audited_route_leaves_its_access_event_on_kafka(settings, api, auth):
    assert set(CALLS) | set(WRITES) | set(WORKFLOW) | set(DECISIONS) | set(PAGES) == set(AUDITED.values()), (
        "a declared audited route has no call here")
    sent: dict[str, str] = {}
    for action, (role, path, params) in CALLS.items():
        answer = api.get(path, params=params, headers=auth(role, f"emp-{role}"))
        assert answer.status_code in (200, 404), (path, answer.text)
        sent[answer.headers["x-request-id"]] = action
    events = [json.loads(v)["data"] for v in read_opened(settings, settings.topic(topics.ACCESS))]
    recorded = {e["request_id"]: e["action"] for e in events}
    assert {rid: recorded.get(rid) for rid in sent} == sent


def test_every_audited_write_leaves_its_access_event_on_kafka(settings, ingest, api, auth):
    with running(settings, ("resolver", "relay", "timeline", "work")):
        cid, _ = customer_through_pipeline(ingest, api, auth)
        agent, lead = auth("agent", "emp-w"), auth("supervisor", "sup-w")
        calls = [
            ("customer.note", "post", f"/v1/customers/{cid}/notes", {"text": "Звонок"}, agent),
            ("customer.profile", "patch", f"/v1/customers/{cid}", {"owner": "emp-w"}, agent),
            ("request.open", "post", f"/v1/customers/{cid}/requests", {"subject": "Счёт"}, agent),
            ("task.create", "post", "/v1/tasks", {"customer_id": cid, "title": "Перезвонить",
                                                  "due_at": "2027-01-01T10:00:00+03:00"}, agent),
        ]
        sent = {}
        for action, method, path, body, headers in calls:
            answer = getattr(api, method)(path, json=body, headers=headers)
            assert answer.status_code == 202, (path, answer.text)
            sent[answer.headers["x-request-id"]] = action
        rid = wait_until(lambda: api.get("/v1/requests", params={"customer_id": cid}, headers=lead).json()["items"],
                         message="request projected")[0]["id"]
        tid = wait_until(lambda: api.get("/v1/tasks", params={"assignee": "emp-w"}, headers=lead).json()["items"],
                         message="task projected")[0]["id"]
        for action, path, body, headers in (
            ("request.status", f"/v1/requests/{rid}/status", {"status": "pending"}, agent),
            ("task.done", f"/v1/tasks/{tid}/done", None, agent),
            ("employee.handover", "/v1/employees/emp-w/handover", {"to": "emp-x"}, lead),
            # Personal data, last: a hold that has already ended, then the erasure it lets through.
            ("customer.hold", f"/v1/customers/{cid}/hold", {"reason": "r", "until": "2020-01-01T00:00:00Z"},
             auth("admin", "adm-w")),
            ("customer.erase", f"/v1/customers/{cid}/erase", {"reason": "r"}, auth("admin", "adm-w")),
        ):
            answer = api.post(path, json=body, headers=headers)
            assert answer.status_code == 202, (path, answer.text)
            sent[answer.headers["x-request-id"]] = action
    assert set(sent.values()) == set(WRITES)
    events = [json.loads(v)["data"] for v in read_opened(settings, settings.topic(topics.ACCESS))]
    recorded = {e["request_id"]: (e["action"], e["customer_ids"]) for e in events}
    assert {rid: recorded.get(rid, (None,))[0] for rid in sent} == sent
    assert all(recorded[r][1] == [cid] for r in sent), "each write names the customer it touched"


def test_an_audited_route_that_forgets_to_record_answers_500_not_the_data(settings, auth):
    from services.api.app import create_app

    async def forgetful(*_args, **_kwargs) -> None:
        return None

    with TestClient(create_app(settings)) as client:
        client.app.state.auditor.record = forgetful
        answer = client.get("/v1/customers", params={"q": "x"}, headers=auth("agent"))
    assert answer.status_code == 500
    assert answer.json()["error"]["code"] == "audit_missing"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("post", "/v1/employees/emp-1/status", {"admin"}),
        ("get", f"/v1/customers/{CUSTOMER}/export", {"agent", "supervisor"}),
        ("get", "/v1/audit/access", {"security_officer"}),
        ("get", "/v1/audit/alerts", {"security_officer"}),
        ("get", "/v1/audit/verify", {"security_officer"}),
    ],
)
def test_each_new_route_admits_only_its_roles(api, auth, method, path, allowed):
    body = {"json": {"status": "active"}} if method == "post" else {}
    assert getattr(api, method)(path, **body).status_code == 401
    for role in ("channel", "agent", "supervisor", "security_officer", "admin"):
        answer = getattr(api, method)(path, headers=auth(role, f"x-{role}"), **body)
        if role in allowed:
            assert answer.status_code in (200, 202, 404), (role, answer.text)
        else:
            assert answer.status_code == 403, (role, answer.text)
            assert answer.json()["error"]["code"] == "forbidden"


def test_the_export_holds_the_card_and_the_whole_history_newest_first(settings, ingest, api, auth):
    phone = unique_phone()
    sent = [interaction(customer={"phone": phone, "name": "Анна Смирнова"},
                        occurred_at=f"2026-11-0{day}T10:00:00+03:00") for day in (1, 2, 3)]
    for item in sent:
        assert ingest.post("/v1/interactions", json=item, headers=auth("channel", "tel")).status_code == 202
    with running(settings, ("resolver", "relay", "timeline")):
        cid = wait_until(lambda: api.get("/v1/customers", params={"q": phone},
                                         headers=auth("agent")).json()["items"],
                         message="customer found")[0]["id"]
        wait_until(lambda: api.get(f"/v1/customers/{cid}/export",
                                   headers=auth("agent")).json()["count"] == 3, message="3 rows")
    export = api.get(f"/v1/customers/{cid}/export", headers=auth("agent")).json()
    assert export["customer"]["id"] == cid and export["customer"]["name"] == "Анна Смирнова"
    assert [i["external_id"] for i in export["timeline"]] == [i["external_id"] for i in reversed(sent)]
    assert export["truncated"] is False
    unknown = api.get(f"/v1/customers/{uuid.uuid4()}/export", headers=auth("agent"))
    assert unknown.status_code == 404


def test_alerts_and_access_pages_refuse_a_cursor_they_did_not_issue(api, auth):
    for path in ("/v1/audit/alerts", "/v1/audit/access"):
        answer = api.get(path, params={"before": "bm90LWEtY3Vyc29y"},
                         headers=auth("security_officer", "sec-1"))
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_cursor"
