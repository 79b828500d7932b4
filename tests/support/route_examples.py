"""A minimal valid request for every route, and the real data the happy path fills them with.

The role tests (``tests/e2e/test_roles.py``) call every route as every role; these are the
bodies they send and the open request, task and duplicate proposal they act on.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.support.data import interaction, unique_phone
from tests.support.workers import wait_until

# Minimal valid input per route: (path params, query, json body). Path params are filled in by
# the happy-path test from real data; the refusal tests use the same shapes with made-up ids.
Example = Callable[[dict[str, str]], tuple[dict[str, str], dict[str, Any], Any]]
EXAMPLES: dict[tuple[str, str, str], Example] = {
    ("ingest", "POST", "/v1/interactions"): lambda d: ({}, {}, interaction()),
    ("ingest", "POST", "/v1/interactions/batch"): lambda d: ({}, {}, {"items": [interaction()]}),
    # Channel-native bodies are (bytes, content type).
    ("ingest", "POST", "/v1/channels/email"): lambda d: ({}, {}, (
        f"From: a@example.ru\nMessage-ID: <{uuid.uuid4()}@roles>\n\nhi".encode(), "message/rfc822")),
    ("ingest", "POST", "/v1/channels/telephony/cdr"): lambda d: ({}, {}, (
        f'"","89123456789","101","c","","SIP/t-1","SIP/101-2","Dial","","2026-11-20 10:00:00","",'
        f'"2026-11-20 10:00:01",1,0,"NO ANSWER","DOCUMENTATION","{uuid.uuid4()}",""'.encode(), "text/csv")),
    ("ingest", "POST", "/v1/channels/web-form/{form_id}"): lambda d: ({"form_id": "contact"}, {}, (
        f"phone=89123456789&message={uuid.uuid4()}".encode(), "application/x-www-form-urlencoded")),
    ("ingest", "POST", "/v1/channels/telegram"): lambda d: ({}, {}, {
        "update_id": uuid.uuid4().int % 2**31, "message": {"message_id": 1, "date": 1763622000,
        "chat": {"id": 5, "type": "private"}, "from": {"id": 5, "is_bot": False, "first_name": "A"},
        "text": "hi"}}),
    ("api", "GET", "/v1/customers"): lambda d: ({}, {"q": d["phone"]}, None),
    ("api", "GET", "/v1/customers/{customer_id}"): lambda d: ({"customer_id": d["customer"]}, {}, None),
    ("api", "GET", "/v1/customers/{customer_id}/timeline"): lambda d: (
        {"customer_id": d["customer"]}, {"limit": "10"}, None
    ),
    ("api", "GET", "/v1/customers/{customer_id}/export"): lambda d: (
        {"customer_id": d["customer"]}, {}, None
    ),
    ("api", "POST", "/v1/customers/{customer_id}/split"): lambda d: (
        {"customer_id": d["customer"]}, {}, {"identifiers": [{"kind": "phone", "value": d["phone"]}]}
    ),
    # The workers are stopped by then: the erasure is requested (202), not carried out.
    ("api", "POST", "/v1/customers/{customer_id}/erase"): lambda d: (
        {"customer_id": d["customer"]}, {}, {"reason": "отзыв согласия"}
    ),
    ("api", "POST", "/v1/customers/{customer_id}/hold"): lambda d: (
        {"customer_id": d["customer"]}, {}, {"reason": "запрос суда", "until": "2030-01-01T00:00:00Z"}
    ),
    ("api", "GET", "/v1/audit/access"): lambda d: ({}, {"employee_id": "emp-1"}, None),
    ("api", "GET", "/v1/audit/alerts"): lambda d: ({}, {}, None),
    ("api", "GET", "/v1/audit/verify"): lambda d: ({}, {}, None),
    ("api", "GET", "/v1/audit/alerts/{alert_id}"): lambda d: ({"alert_id": d["alert"]}, {}, None),
    ("api", "POST", "/v1/audit/alerts/{alert_id}/status"): lambda d: (
        {"alert_id": d["alert"]}, {}, {"status": "acknowledged"}
    ),
    ("api", "GET", "/v1/audit/suppressions"): lambda d: ({}, {}, None),
    ("api", "POST", "/v1/employees/{employee_id}/status"): lambda d: (
        {"employee_id": "emp-roles-target"}, {}, {"status": "active", "team": "sales"}
    ),
    # The agent's work (issue 14): the request and the task are made in the happy path's setup.
    ("api", "POST", "/v1/customers/{customer_id}/notes"): lambda d: (
        {"customer_id": d["customer"]}, {}, {"text": "Звонок", "outcome": "callback"}
    ),
    ("api", "PATCH", "/v1/customers/{customer_id}"): lambda d: ({"customer_id": d["customer"]}, {}, {"tags": ["vip"]}),
    ("api", "POST", "/v1/employees/{employee_id}/handover"): lambda d: (
        {"employee_id": "emp-roles-leaving"}, {}, {"to": "emp-roles-taking"}
    ),
    ("api", "POST", "/v1/customers/{customer_id}/requests"): lambda d: (
        {"customer_id": d["customer"]}, {}, {"subject": "Возврат"}
    ),
    ("api", "POST", "/v1/requests/{request_id}/status"): lambda d: (
        {"request_id": d["request"]}, {}, {"status": "pending"}
    ),
    ("api", "GET", "/v1/requests"): lambda d: ({}, {"status": "open"}, None),
    ("api", "POST", "/v1/tasks"): lambda d: (
        {}, {}, {"customer_id": d["customer"], "title": "Перезвонить", "due_at": "2027-01-01T10:00:00+03:00"}
    ),
    ("api", "POST", "/v1/tasks/{task_id}/done"): lambda d: ({"task_id": d["task"]}, {}, None),
    ("api", "GET", "/v1/tasks"): lambda d: ({}, {"assignee": "me"}, None),
    ("api", "GET", "/v1/reports/dormant"): lambda d: ({}, {"days": "30"}, None),
    ("api", "GET", "/v1/reports/birthdays"): lambda d: ({}, {"within_days": "7"}, None),
    ("api", "GET", "/v1/reports/activity"): lambda d: ({}, {"by": "channel"}, None),
    # Possible duplicates (issue 20): the proposal is made in the happy path's setup and stays open
    # (the finder stops before these calls), so every admitted role can decide it.
    ("api", "GET", "/v1/duplicates"): lambda d: ({}, {"status": "open"}, None),
    ("api", "POST", "/v1/duplicates/{proposal_id}/accept"): lambda d: ({"proposal_id": d["proposal"]}, {}, None),
    ("api", "POST", "/v1/duplicates/{proposal_id}/reject"): lambda d: (
        {"proposal_id": d["proposal"]}, {}, {"reason": "two people"}
    ),
}
MADE_UP = {"customer": str(uuid.uuid4()), "phone": "+79161234567", "request": str(uuid.uuid4()),
           "task": str(uuid.uuid4()), "proposal": str(uuid.uuid4()), "alert": str(uuid.uuid4())}


def work_items(api: TestClient, auth: Callable[..., dict[str, str]], customer: str) -> dict[str, str]:
    """A request and a task (of the agent the happy path calls as) for the routes that change them;
    the work worker stops before those calls, so each admitted role finds them still open."""
    request = api.post(f"/v1/customers/{customer}/requests", json={"subject": "Счёт"},
                       headers=auth("agent", "emp-setup")).json()["id"]
    task = api.post("/v1/tasks", json={"customer_id": customer, "title": "Счёт", "due_at": "2027-01-01T10:00:00Z",
                                       "assignee": "emp-ok-agent"}, headers=auth("agent", "emp-setup")).json()["id"]
    for path, wanted in (("/v1/requests", request), ("/v1/tasks", task)):
        wait_until(lambda p=path, w=wanted: any(i["id"] == w for i in api.get(
            p, params={"limit": 500}, headers=auth("supervisor", "emp-setup")).json()["items"]),
            message=f"{wanted} listed by {path}")
    return {"request": request, "task": task}


def duplicate_pair(ingest: TestClient, auth: Callable[..., dict[str, str]]) -> str:
    """One person twice (a mistyped number, the same birth date and address); their house number."""
    phone = unique_phone().replace(" ", "").replace("-", "")
    for number in (phone, phone[:-1] + str((int(phone[-1]) + 1) % 10)):
        sent = ingest.post("/v1/interactions", headers=auth("channel", "web"), json=interaction(
            customer={"phone": number, "name": "Анна Соколова"},
            details={"birth_date": "1977-03-04", "address": f"Тверь, ул. Мира, {phone[-4:]}"}))
        assert sent.status_code == 202, sent.text
    return phone[-4:]


def open_proposal(api: TestClient, auth: Callable[..., dict[str, str]], house: str) -> str:
    def find() -> str | None:
        answer = api.get("/v1/duplicates", params={"limit": 500}, headers=auth("supervisor", "emp-setup"))
        return next((i["id"] for i in answer.json()["items"] for e in i["evidence"]
                     if e["attribute"] == "address" and house in str(e["values"])), None)

    return wait_until(find, message="a proposal for the duplicate pair")
