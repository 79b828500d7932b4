"""From API reads to alerts: access.v1 -> detectors -> alerts.v1 -> GET /v1/audit/alerts."""

from __future__ import annotations

import csv
import io
import json
import uuid

import psycopg
import pytest

from events import topics
from tests.support.audit import count, rows
from tests.support.data import interaction, unique_phone
from tests.support.kafka_tools import read_all
from tests.support.workers import running, wait_until

pytestmark = pytest.mark.integration
AUDIT_WORKERS = ("audit", "detect", "relay", "alerts")


def _customers(settings, ingest, api, auth, n: int) -> list[str]:
    phones = [unique_phone() for _ in range(n)]
    for phone in phones:
        item = interaction(customer={"phone": phone, "name": "Ирина Петрова"}, agent_id="emp-9")
        assert ingest.post("/v1/interactions", json=item, headers=auth("channel", "tel")).status_code == 202
    found: list[str] = []
    with running(settings, ("resolver", "relay", "timeline")):
        for phone in phones:
            hit = wait_until(
                lambda p=phone: api.get("/v1/customers", params={"q": p},
                                        headers=auth("agent", "emp-9")).json()["items"],
                message="customer searchable",
            )
            found.append(hit[0]["id"])
    return found


def _round_the_clock(settings, api, auth, employee: str) -> None:
    """A 24/7 shift for ``employee``: these tests are about other detectors, and must not
    see off-hours alerts depending on the hour they happen to run at."""
    body = {"status": "active", "work_hours": [0, 0]}
    answer = api.post(f"/v1/employees/{employee}/status", json=body, headers=auth("admin", "adm-1"))
    assert answer.status_code == 202, answer.text
    with running(settings, ("employees",)):
        wait_until(lambda: count(settings.dsn, "SELECT count(*) FROM employees WHERE employee_id = %s"
                                 " AND work_start = 0 AND work_end = 0", (employee,)) == 1,
                   message="shift recorded")


def _alerts(api, auth, **params) -> list[dict]:
    answer = api.get("/v1/audit/alerts", params=params, headers=auth("security_officer", "sec-1"))
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def test_an_agent_exporting_many_customers_raises_one_bulk_export_alert_with_evidence(
    settings, ingest, api, auth
):
    for employee in ("emp-9", "emp-thief"):  # emp-9 searches for the customers below
        _round_the_clock(settings, api, auth, employee)
    customers = _customers(settings, ingest, api, auth, 8)
    for cid in customers:
        answer = api.get(f"/v1/customers/{cid}/export", headers=auth("agent", "emp-thief"))
        assert answer.status_code == 200, answer.text
        assert answer.json()["customer"]["id"] == cid and answer.json()["count"] == 1
    with running(settings, AUDIT_WORKERS):
        found = wait_until(lambda: _alerts(api, auth, employee_id="emp-thief"), timeout_s=60,
                           message="an alert for the exporting agent")
        # The officer's own reads are on the trail too.
        wait_until(lambda: count(settings.dsn, "SELECT count(*) FROM access_log"
                                 " WHERE action = 'audit.alerts'") > 0, message="officer audited")
    [alert] = found
    assert (alert["kind"], alert["employee_id"]) == ("bulk_export", "emp-thief")
    assert alert["severity"] in ("low", "medium", "high", "critical") and 0 < alert["score"] <= 1
    evidence = alert["evidence"]
    assert evidence["exports"] == 8 and evidence["threshold"] == 5
    assert set(evidence["sample_customer_ids"]) <= set(customers)
    assert evidence["offset_range"] is not None
    assert _alerts(api, auth, kind="breadth") == []
    assert _alerts(api, auth, severity=alert["severity"])[0]["id"] == alert["id"]
    on_kafka = [json.loads(r.value) for r in read_all(settings, settings.topic(topics.ALERTS))]
    assert {e["data"]["id"] for e in on_kafka} == {alert["id"]}


def test_browsing_many_cards_raises_breadth_once_even_when_the_detector_runs_again(
    settings, api, auth
):
    _round_the_clock(settings, api, auth, "emp-wide")
    viewed = [str(uuid.uuid4()) for _ in range(70)]
    for cid in viewed:  # unknown ids answer 404, but the look-up itself is an access
        assert api.get(f"/v1/customers/{cid}", headers=auth("agent", "emp-wide")).status_code == 404
    # One alerts worker throughout: Tansu under-reports a partition's end offset after a
    # multi-record batch, which the runner would take for a reset log on a restart.
    with running(settings, ("alerts",)):
        with running(settings, ("audit", "detect", "relay")):
            wait_until(lambda: _alerts(api, auth, kind="breadth"), timeout_s=60,
                       message="breadth alert")
        # A fresh detector state (as after a change to it) re-evaluates the same history.
        with psycopg.connect(settings.dsn) as conn:
            conn.execute("DELETE FROM detect_raised")
            conn.execute("DELETE FROM tracking WHERE application_name LIKE 'detect:%'")
        with running(settings, ("detect", "relay")):
            wait_until(lambda: len(read_all(settings, settings.topic(topics.ALERTS))) >= 2,
                       timeout_s=60, message="re-raised on alerts.v1")
        wait_until(lambda: _alerts_lag_zero(settings), message="alerts projected")
    stored = rows(settings.dsn, "SELECT id, kind, evidence FROM alerts ORDER BY kind")
    # Seventy strangers in minutes: too broad, and none of them the agent's own customers.
    assert [r["kind"] for r in stored] == ["breadth", "no_business_reason"]
    assert stored[0]["evidence"]["distinct_customers"] == 70


def _alerts_lag_zero(settings) -> bool:
    path = settings.data_dir / "run" / f"{settings.topic_prefix}alerts.status.json"
    return path.exists() and json.loads(path.read_text())["lag"] == 0


def test_officers_ask_who_saw_a_customer_and_export_the_answer_as_csv(settings, api, auth):
    cid = str(uuid.uuid4())
    for employee in ("emp-1", "emp-2"):
        api.get(f"/v1/customers/{cid}", headers=auth("agent", employee))
    api.get(f"/v1/customers/{uuid.uuid4()}", headers=auth("agent", "emp-3"))
    officer = auth("security_officer", "sec-1")
    with running(settings, ("audit",)):
        wait_until(lambda: count(settings.dsn, "SELECT count(*) FROM access_log") == 3,
                   message="three accesses")
        page = api.get("/v1/audit/access", params={"customer_id": cid}, headers=officer).json()
        assert sorted(i["employee_id"] for i in page["items"]) == ["emp-1", "emp-2"]
        one = api.get("/v1/audit/access", params={"employee_id": "emp-2"}, headers=officer).json()
        assert [i["customer_ids"] for i in one["items"]] == [[cid]]
        exported = api.get("/v1/audit/access", params={"customer_id": cid, "format": "csv"},
                           headers=officer)
        assert exported.status_code == 200
        assert exported.headers["content-type"].startswith("text/csv")
        table = list(csv.DictReader(io.StringIO(exported.text)))
        # The officer's own question about the customer may already be on the trail too.
        assert {r["employee_id"] for r in table} - {"sec-1"} == {"emp-1", "emp-2"}
        assert {r["customer_ids"] for r in table} == {cid}
        wait_until(lambda: count(settings.dsn, "SELECT count(*) FROM access_log"
                                 " WHERE action IN ('audit.access', 'audit.export')") == 3,
                   message="the officer's three queries audited")
    queries = rows(settings.dsn, "SELECT action, query, customer_ids FROM access_log"
                                 " WHERE action IN ('audit.access', 'audit.export') ORDER BY seq")
    assert [q["action"] for q in queries] == ["audit.access", "audit.access", "audit.export"]
    assert "format=csv" in queries[-1]["query"] and queries[-1]["customer_ids"] == [cid]
