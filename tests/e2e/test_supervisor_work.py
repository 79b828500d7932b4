"""A supervisor's morning: dormant customers, birthdays, activity, late requests, segments and a
handover; reports are for supervisors only, audited as bulk reads; ``kartoteka rebuild`` (through
the registry) reproduces the work read models and the report projections exactly."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from services.projections import registry
from services.projections.rebuild import rebuild
from services.projections.timeline.reports import REPORT_PROJECTIONS
from tests.support.data import interaction
from tests.support.work import (
    WORK_WORKERS,
    access_actions,
    card_until,
    customer_through_pipeline,
    listed,
)
from tests.support.workers import running

pytestmark = pytest.mark.integration


def test_dormant_birthday_and_activity_reports_answer_supervisors_in_json_and_csv(settings, ingest, api, auth):
    with running(settings, WORK_WORKERS):
        cid, call = customer_through_pipeline(ingest, api, auth, agent_id="emp-r1",
                                              details={"duration_s": 95, "disposition": "ANSWERED"})
        today = datetime.now(UTC).date()
        born = today.replace(year=1990) if (today.month, today.day) != (2, 29) else today.replace(year=1992)
        assert api.patch(f"/v1/customers/{cid}", json={"birth_date": born.isoformat(), "owner": "emp-r1"},
                         headers=auth("supervisor", "sup-1")).status_code == 202
        dormant = listed(api, auth, "/v1/reports/dormant", {"days": 7, "owner": "emp-r1"},
                         lambda items: any(i["id"] == cid for i in items), "customer dormant")
        assert dormant[0]["last_contact_at"].startswith(call["occurred_at"][:10])
        assert dormant[0]["owner"] == "emp-r1"
        assert _items(api, auth, "/v1/reports/dormant", {"days": 36500}) == []
        births = listed(api, auth, "/v1/reports/birthdays", {"within_days": 0},
                        lambda items: any(i["id"] == cid for i in items), "birthday today")
        assert [b for b in births if b["id"] == cid][0]["next_birthday"] == today.isoformat()
        day = call["occurred_at"][:10]
        rows = listed(api, auth, "/v1/reports/activity", {"from": day, "to": day, "by": "agent"}, bool,
                      "activity", key="rows")
        mine = {r["key"]: r for r in rows}["emp-r1"]
        assert (mine["interactions"], mine["inbound"], mine["calls_answered"], mine["calls_missed"]) == (1, 1, 1, 0)
        assert mine["talk_time_s"] == 95
        as_csv = api.get("/v1/reports/dormant", params={"days": 7, "owner": "emp-r1"},
                         headers={**auth("supervisor", "sup-1"), "Accept": "text/csv"})
        assert as_csv.headers["content-type"].startswith("text/csv")
        table = list(csv.DictReader(io.StringIO(as_csv.text)))
        assert table[0]["id"] == cid and list(table[0]) == ["id", "name", "last_contact_at", "owner"]
        for path in ("/v1/reports/dormant?days=7", "/v1/reports/birthdays", "/v1/reports/activity"):
            assert api.get(path, headers=auth("agent", "emp-r1")).status_code == 403, path
        refused = api.get("/v1/reports/dormant", params={"days": 0}, headers=auth("supervisor", "sup-1"))
        assert refused.status_code == 422
        assert api.get("/v1/reports/activity", params={"from": "2026-12-02", "to": "2026-12-01"},
                       headers=auth("supervisor", "sup-1")).status_code == 422
        records = access_actions(api, auth, "sup-poller", {"report.dormant", "report.birthdays", "report.activity"})
        bulk = [r for r in records if r["action"] == "report.dormant" and cid in r["customer_ids"]]
        assert bulk


def test_overdue_requests_segments_and_a_handover_move_work_to_another_employee(settings, ingest, api, auth):
    with running(settings, WORK_WORKERS):
        cid, _ = customer_through_pipeline(ingest, api, auth)
        assert api.patch(f"/v1/customers/{cid}", json={"owner": "emp-a", "tags": ["vip"], "company": "Ромашка"},
                         headers=auth("supervisor", "sup-1")).status_code == 202
        rid = api.post(f"/v1/customers/{cid}/requests", json={"subject": "Счёт", "assignee": "emp-a"},
                       headers=auth("agent", "emp-a")).json()["id"]
        due = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
        tid = api.post("/v1/tasks", json={"customer_id": cid, "title": "Отправить счёт", "due_at": due},
                       headers=auth("agent", "emp-a")).json()["id"]
        listed(api, auth, "/v1/tasks", {"assignee": "emp-a"}, bool, "task of emp-a")
        listed(api, auth, "/v1/requests", {"assignee": "emp-a", "overdue": "false"}, bool, "request of emp-a")
        assert _items(api, auth, "/v1/requests", {"assignee": "emp-a", "overdue": "true"}) == []
        segment = listed(api, auth, "/v1/customers", {"tag": "vip", "owner": "emp-a", "company": "ромашка"},
                         bool, "segment", who=("agent", "emp-a"))
        assert [s["id"] for s in segment] == [cid]
        assert api.get("/v1/customers", params={"tag": "vip", "owner": "emp-zzz"},
                       headers=auth("agent", "emp-a")).json()["items"] == []
        assert api.post("/v1/employees/emp-a/handover", json={"to": "emp-b"},
                        headers=auth("agent", "emp-a")).status_code == 403
        handed = api.post("/v1/employees/emp-a/handover", json={"to": "emp-b"}, headers=auth("supervisor", "sup-1"))
        assert handed.status_code == 202, handed.text
        card = card_until(api, auth, cid, lambda c: c["owner"] == "emp-b", "owner handed over")
        assert card["open_requests"][0]["assignee"] == "emp-b"
        [task] = listed(api, auth, "/v1/tasks", {"assignee": "emp-b"}, bool, "task handed over")
        assert task["id"] == tid
        [request] = listed(api, auth, "/v1/requests", {"customer_id": cid}, bool, "request")
        assert (request["id"], request["assignee"]) == (rid, "emp-b")
        [record] = [r for r in access_actions(api, auth, "sup-1", {"employee.handover"})
                    if r["action"] == "employee.handover"]
        assert record["customer_ids"] == [cid]


@pytest.mark.parametrize(("channel", "key"), [("email", "thread_id"), ("chat", "chat_id")])
def test_a_reply_in_a_requests_mail_thread_or_chat_attaches_to_it(settings, ingest, api, auth, channel, key):
    with running(settings, WORK_WORKERS):
        thread = f"thread-{datetime.now(UTC).timestamp()}"
        cid, mail = customer_through_pipeline(ingest, api, auth, channel=channel, details={key: thread})
        rid = api.post(f"/v1/customers/{cid}/requests", json={"subject": "Re: доставка", "interaction_id": mail["id"]},
                       headers=auth("agent", "emp-7")).json()["id"]
        listed(api, auth, "/v1/requests", {"customer_id": cid}, bool, "request opened")
        reply = interaction(channel=channel, customer=mail["customer"], details={key: thread})
        reply_id = ingest.post("/v1/interactions", json=reply, headers=auth("channel", "mail")).json()["id"]
        [item] = listed(api, auth, "/v1/requests", {"customer_id": cid}, lambda i: bool(i and i[0]["replies"]),
                        "reply attached")
        assert (item["id"], item["replies"], item["channel"]) == (rid, [reply_id], channel)


def test_rebuilding_the_work_read_models_from_the_recorded_log_reproduces_them(settings, ingest, api, auth):
    with running(settings, WORK_WORKERS):
        cid, call = customer_through_pipeline(ingest, api, auth)
        writes = [
            ("patch", f"/v1/customers/{cid}", {"name": "Пётр", "tags": ["b", "a"], "owner": "emp-7"}),
            ("post", f"/v1/customers/{cid}/notes", {"text": "звонок", "interaction_id": call["id"], "outcome": "sale"}),
            ("post", f"/v1/customers/{cid}/requests", {"subject": "Доставка", "priority": "high"}),
            ("post", "/v1/tasks", {"customer_id": cid, "title": "Позвонить", "due_at": "2027-01-10T09:00:00+03:00"}),
            ("patch", f"/v1/customers/{cid}", {"birth_date": "1970-12-31", "company": "ИП Петров"}),
        ]
        for method, path, body in writes:
            assert getattr(api, method)(path, json=body, headers=auth("agent", "emp-7")).status_code == 202
        rid = listed(api, auth, "/v1/requests", {"customer_id": cid}, bool, "request")[0]["id"]
        assert api.post(f"/v1/requests/{rid}/status", json={"status": "resolved"},
                        headers=auth("agent", "emp-7")).status_code == 202
        card_until(api, auth, cid, lambda c: c["company"] == "ИП Петров" and not c["open_requests"], "all applied")
    before = _snapshot(settings)
    report = rebuild(settings)
    assert {"timeline", "work"} <= set(report.rebuilt) and not report.skipped
    after = _snapshot(settings)
    assert after == before
    assert before["work_requests"] and before["work_tasks"] and before["customer_profiles"]
    assert before["activity_daily"] and before["customer_contacts"]
    assert len(before["work_log"]) == len(writes) + 1


def _items(api, auth, path: str, params: dict) -> list[dict]:
    answer = api.get(path, params=params, headers=auth("supervisor", "sup-1"))
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def _snapshot(settings) -> dict[str, list[tuple]]:
    """Every work read model and report projection, each row in full, in key order."""
    order = {"work_notes": "note_id", "customer_profiles": "customer_id", "work_requests": "request_id",
             "request_changes": "change_id", "work_tasks": "task_id", "work_handovers": "handover_id",
             "customer_contacts": "customer_id", "activity_daily": "day, channel, agent_id",
             "request_interactions": "request_id, interaction_id", "work_log": "event_id"}
    assert set(registry.spec_of("work").read_model) | set(REPORT_PROJECTIONS) == set(order)
    with psycopg.connect(settings.dsn) as conn:
        return {table: [tuple(r) for r in conn.execute(
            f"SELECT * FROM {table} ORDER BY {columns}").fetchall()]  # noqa: S608
            for table, columns in order.items()}


def test_report_pages_follow_their_cursors_without_repeating_anyone(settings, ingest, api, auth):
    with running(settings, WORK_WORKERS):
        ids = [customer_through_pipeline(ingest, api, auth)[0] for _ in range(3)]
        today = datetime.now(UTC).date()
        born = today.replace(year=1985) if (today.month, today.day) != (2, 29) else today.replace(year=1984)
        for cid in ids:
            assert api.patch(f"/v1/customers/{cid}", json={"birth_date": born.isoformat()},
                             headers=auth("supervisor", "sup-1")).status_code == 202
        listed(api, auth, "/v1/reports/birthdays", {"within_days": 1}, lambda i: len(i) == 3, "three birthdays")
        for path, params in (("/v1/reports/dormant", {"days": 7}), ("/v1/reports/birthdays", {"within_days": 1})):
            seen, cursor = [], None
            for _ in range(3):
                page = api.get(path, params={**params, "limit": 1, **({"before": cursor} if cursor else {})},
                               headers=auth("supervisor", "sup-1")).json()
                seen += [i["id"] for i in page["items"]]
                cursor = page["next"]
            assert sorted(seen) == sorted(ids) and cursor is None, path
