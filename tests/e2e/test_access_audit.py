"""Every read of customer data leaves an access record (who, role, what, which customers, which
request, from where), reading the trail is itself recorded, and a read whose access event cannot
reach Kafka is refused (503 ``audit_unavailable``) rather than served unaudited."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kartoteka import kafka
from tests.support.data import interaction, unique_phone
from tests.support.workers import running, wait_until

pytestmark = pytest.mark.integration

TESTCLIENT_HOST = "testclient"  # the client address Starlette's TestClient connects from


def _ingest(ingest: TestClient, auth: Callable[..., dict[str, str]], **customer: str) -> dict[str, Any]:
    item = interaction(customer=customer)
    answer = ingest.post("/v1/interactions", json=item, headers=auth("channel", "tel"))
    assert answer.status_code == 202, answer.text
    return item


def _find(api: TestClient, auth: Callable[..., dict[str, str]], q: str, expect: int = 1) -> list[dict]:
    """Poll search (as a separate employee, so its own access records stay apart)."""

    def found() -> list[dict]:
        items = api.get("/v1/customers", params={"q": q}, headers=auth("agent", "emp-poller")).json()
        return items["items"] if len(items["items"]) >= expect else []

    return wait_until(found, message=f"{expect} customer(s) found by {q!r}")


def _trail(
    api: TestClient, auth: Callable[..., dict[str, str]], employee_id: str, expect: int
) -> list[dict]:
    """The access records of ``employee_id`` as a security officer reads them, oldest first."""

    def read() -> list[dict]:
        answer = api.get(
            "/v1/audit/access",
            params={"employee_id": employee_id, "limit": 500},
            headers=auth("security_officer", "sec-officer"),
        )
        assert answer.status_code == 200, answer.text
        items = answer.json()["items"]
        return items if len(items) >= expect else []

    return list(reversed(wait_until(read, message=f"{expect} access records of {employee_id}")))


def test_every_read_of_customer_data_records_who_read_which_customer_in_which_request_from_where(
    settings, ingest, api, auth
):
    phone = unique_phone()
    _ingest(ingest, auth, phone=phone, name="Ирина Петрова")
    _ingest(ingest, auth, phone=phone, email="irina@example.ru")
    nobody = str(uuid.uuid4())
    with running(settings):
        customer = _find(api, auth, phone)[0]["id"]
        agent = auth("agent", "emp-7")
        reads = [
            ("customer.search", api.get("/v1/customers", params={"q": phone}, headers=agent), [customer]),
            ("customer.card", api.get(f"/v1/customers/{customer}", headers=agent), [customer]),
            (
                "customer.timeline",
                api.get(
                    f"/v1/customers/{customer}/timeline",
                    headers={**agent, "x-request-id": "req-timeline-" + uuid.uuid4().hex},
                ),
                [customer],
            ),
            ("customer.card", api.get(f"/v1/customers/{nobody}", headers=agent), [nobody]),
        ]
        supervisor_read = api.get(f"/v1/customers/{customer}", headers=auth("supervisor", "sup-3"))
        records = _trail(api, auth, "emp-7", len(reads))
        supervisor_records = _trail(api, auth, "sup-3", 1)

    assert [r.status_code for _, r, _ in reads] == [200, 200, 200, 404]
    assert reads[0][1].json()["items"][0]["id"] == customer
    assert reads[2][1].headers["x-request-id"].startswith("req-timeline-"), "a given request id is kept"
    assert len(records) == len(reads), records
    for (action, response, customer_ids), record in zip(reads, records, strict=True):
        assert record["employee_id"] == "emp-7"
        assert record["role"] == "agent"
        assert record["action"] == action
        assert record["customer_ids"] == customer_ids
        assert record["request_id"] == response.headers["x-request-id"]
        assert record["client"] == TESTCLIENT_HOST
    assert records[0]["query"] == phone, "a search records what was searched for"
    [supervisor_record] = supervisor_records
    assert supervisor_record["role"] == "supervisor"
    assert supervisor_record["action"] == "customer.card"
    assert supervisor_record["customer_ids"] == [customer]
    assert supervisor_record["request_id"] == supervisor_read.headers["x-request-id"]


def test_a_search_returning_three_customers_records_exactly_those_three_ids(settings, ingest, api, auth):
    surname = "Вишневская" + uuid.uuid4().hex[:6]
    for first in ("Анна", "Мария", "Ольга"):
        _ingest(ingest, auth, phone=unique_phone(), name=f"{first} {surname}")
    with running(settings):
        _find(api, auth, surname, expect=3)
        answer = api.get("/v1/customers", params={"q": surname}, headers=auth("agent", "emp-search"))
        [record] = _trail(api, auth, "emp-search", 1)
    assert answer.status_code == 200, answer.text
    returned = [item["id"] for item in answer.json()["items"]]
    assert len(returned) == len(set(returned)) == 3, answer.json()
    assert sorted(record["customer_ids"]) == sorted(returned)
    assert record["action"] == "customer.search"
    assert record["request_id"] == answer.headers["x-request-id"]


def test_reading_the_audit_trail_is_itself_recorded_as_audit_access(settings, ingest, api, auth):
    officer = auth("security_officer", "sec-9")
    customer = str(uuid.uuid4())
    with running(settings, ("audit",)):
        first = api.get("/v1/audit/access", params={"customer_id": customer}, headers=officer)
        assert first.status_code == 200, first.text
        records = _trail(api, auth, "sec-9", 1)
    [record] = records
    assert record["action"] == "audit.access"
    assert record["role"] == "security_officer"
    assert record["customer_ids"] == [customer]
    assert record["request_id"] == first.headers["x-request-id"]
    assert record["client"] == TESTCLIENT_HOST
    assert customer in (record["query"] or ""), "the filter the officer used is recorded"


def _refused(response: Any) -> str | None:
    if response.status_code != 503:
        return f"{response.status_code}: {response.text[:300]}"
    error = response.json().get("error", {})
    return None if error.get("code") == "audit_unavailable" and error.get("message") else str(error)


def _reads(customer: str, phone: str) -> dict[str, tuple[str, dict[str, str]]]:
    return {
        "search": ("/v1/customers", {"q": phone}),
        "card": (f"/v1/customers/{customer}", {}),
        "timeline": (f"/v1/customers/{customer}/timeline", {}),
    }


@pytest.fixture
def known_customer(settings, ingest, api, auth) -> tuple[str, str]:
    phone = unique_phone()
    _ingest(ingest, auth, phone=phone, name="Секретная Клиентка")
    with running(settings, ("resolver", "relay", "timeline")):
        customer = _find(api, auth, phone)[0]["id"]
    return customer, phone


def test_a_read_is_refused_with_503_when_the_broker_cannot_be_reached_for_its_access_event(
    infra, settings, auth, known_customer
):
    if infra.broker is None:
        pytest.skip("needs the embedded broker, which this test stops and starts again")
    from services.api.app import create_app

    customer, phone = known_customer
    failures = {}
    with TestClient(create_app(settings)) as client:
        healthy = client.get(f"/v1/customers/{customer}", headers=auth("agent", "emp-5"))
        assert healthy.status_code == 200, healthy.text
        infra.broker.stop()
        try:
            for name, (path, params) in _reads(customer, phone).items():
                answer = client.get(path, params=params, headers=auth("agent", "emp-5"))
                assert "Секретная" not in answer.text, f"{name} served data it could not audit"
                if why := _refused(answer):
                    failures[name] = why
        finally:
            infra.broker.start()
    assert not failures, failures


SEND_RAISES = (
    "bug: services/api/auditing.py AccessAuditor._send calls producer.send() unguarded; when it "
    "raises synchronously (closed producer: IllegalStateError; metadata not fetched within "
    "max_block_ms or a full buffer: KafkaTimeoutError) the read answers 500 'internal', not "
    "503 'audit_unavailable', and the ticket it put in _pending is never removed"
)


def test_a_read_is_refused_with_503_when_the_access_event_producer_cannot_send(
    settings, auth, known_customer
):
    from services.api.app import create_app

    customer, phone = known_customer
    failures = {}
    # raise_server_exceptions=False: see the answer a real client gets, not the server's exception.
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        closed = kafka.producer(settings)
        closed.close(5)
        client.app.state.auditor.producer = closed
        for name, (path, params) in _reads(customer, phone).items():
            answer = client.get(path, params=params, headers=auth("agent", "emp-6"))
            assert "Секретная" not in answer.text, f"{name} served data it could not audit"
            if why := _refused(answer):
                failures[name] = why
    assert not failures, failures


def test_reads_are_served_again_once_the_access_event_producer_can_send_again(
    settings, auth, known_customer
):
    from services.api.app import create_app

    customer, _ = known_customer
    agent = auth("agent", "emp-8")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        auditor = client.app.state.auditor
        working = auditor.producer
        closed = kafka.producer(settings)
        closed.close(5)
        auditor.producer = closed
        refused = client.get(f"/v1/customers/{customer}", headers=agent)
        auditor.producer = working
        time.sleep(getattr(auditor, "stall_s", 3.0) + 0.5)  # past the auditor's stall window
        answers = [client.get(f"/v1/customers/{customer}", headers=agent) for _ in range(3)]
    assert refused.status_code >= 500 and "Секретная" not in refused.text
    assert [a.status_code for a in answers] == [200, 200, 200], [a.text[:200] for a in answers]
