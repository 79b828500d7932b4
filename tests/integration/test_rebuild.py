"""``kartoteka rebuild`` empties every registered read model and fills it again from its log."""

from __future__ import annotations

import psycopg
import pytest

from kartoteka import db
from services.projections import registry
from services.projections.rebuild import rebuild
from tests.support.audit import count
from tests.support.data import interaction, unique_phone
from tests.support.workers import running, wait_until

pytestmark = pytest.mark.integration

SNAPSHOTS = {
    "timeline": "SELECT c.id::text, c.name, t.interaction_id::text FROM customers c"
                " JOIN timeline t ON t.customer_id = c.id ORDER BY 1, 3",
    "employees": "SELECT employee_id, status, team, work_start, work_end FROM employees ORDER BY 1",
    "detect": "SELECT id::text, employee_id, action FROM detect_accesses ORDER BY 1",
    "alerts": "SELECT id::text, kind, severity, employee_id FROM alerts ORDER BY 1",
}


def _snapshot(dsn: str) -> dict[str, list[tuple[object, ...]]]:
    with psycopg.connect(dsn) as conn:
        return {name: conn.execute(query).fetchall() for name, query in SNAPSHOTS.items()}


def _fill_every_read_model(settings, ingest, api, auth) -> None:
    """Customers, an employee's shift, their exports (accesses) and the alert they raise."""
    body = {"status": "active", "team": "retail", "work_hours": [0, 0]}
    assert api.post("/v1/employees/emp-rb/status", json=body, headers=auth("admin", "adm-1")).status_code == 202
    phones = [unique_phone() for _ in range(8)]
    for phone in phones:
        item = interaction(customer={"phone": phone, "name": "Ирина Петрова"})
        assert ingest.post("/v1/interactions", json=item, headers=auth("channel", "tel")).status_code == 202
    with running(settings, registry.names()):
        wait_until(lambda: count(settings.dsn, "SELECT count(*) FROM customers") == 8, message="cards")
        wait_until(lambda: count(settings.dsn, "SELECT count(*) FROM employees") == 1, message="shift")
        ids = [api.get("/v1/customers", params={"q": p}, headers=auth("agent", "emp-rb")).json()["items"][0]["id"]
               for p in phones]
        for cid in ids:
            assert api.get(f"/v1/customers/{cid}/export", headers=auth("agent", "emp-rb")).status_code == 200
        wait_until(lambda: count(settings.dsn, "SELECT count(*) FROM alerts WHERE employee_id = 'emp-rb'"),
                   timeout_s=60, message="an alert")


def test_a_rebuild_refills_the_card_timeline_employees_detector_and_alert_models_alike(
    settings, ingest, api, auth
):
    _fill_every_read_model(settings, ingest, api, auth)
    before = _snapshot(settings.dsn)
    assert all(before.values()), before
    report = rebuild(settings)
    assert sorted(report.rebuilt) == sorted(s.name for s in registry.WORKERS if s.read_model)
    assert report.skipped == {}
    assert _snapshot(settings.dsn) == before


def test_a_model_whose_log_the_broker_lost_is_kept_and_reported(settings, api, auth):
    body = {"status": "active", "team": "retail"}
    assert api.post("/v1/employees/emp-kept/status", json=body, headers=auth("admin", "adm-1")).status_code == 202
    with running(settings, ("employees",)):
        wait_until(lambda: count(settings.dsn, "SELECT count(*) FROM employees") == 1, message="projected")
    # What an in-memory broker's restart leaves behind: a position under the old topic id.
    lost = f"employees:{settings.topic('employees.v1')}:a-topic-id-before-the-restart:0"
    with psycopg.connect(settings.dsn) as conn:
        conn.execute(f"INSERT INTO {db.TRACKING_TABLE} (application_name, notification_id)"  # noqa: S608
                     " VALUES (%s, 3)", (lost,))
    report = rebuild(settings)
    assert "employees" in report.skipped and "recreated" in report.skipped["employees"]
    assert "employees" not in report.rebuilt
    assert count(settings.dsn, "SELECT count(*) FROM employees") == 1
