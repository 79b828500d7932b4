"""An agent finishes a call in Kartoteka: note with outcome, profile, request with SLA, follow-up
task; every write goes through Kafka and the work projection, and is an access record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.work import (
    WORK_WORKERS,
    access_actions,
    card_until,
    customer_through_pipeline,
    listed,
)
from tests.support.workers import running, wait_until

pytestmark = pytest.mark.integration


def test_an_agent_notes_the_call_outcome_and_it_shows_in_the_timeline(settings, ingest, api, auth):
    with running(settings, WORK_WORKERS):
        cid, call = customer_through_pipeline(ingest, api, auth)
        note = {"text": "Просит перезвонить завтра", "interaction_id": call["id"], "outcome": "callback"}
        posted = api.post(f"/v1/customers/{cid}/notes", json=note, headers=auth("agent", "emp-7"))
        assert posted.status_code == 202, posted.text
        note_id = posted.json()["id"]

        def timeline() -> list[dict]:
            items = api.get(f"/v1/customers/{cid}/timeline", headers=auth("agent", "emp-7")).json()["items"]
            return items if any(i["id"] == note_id for i in items) else []

        items = {i["id"]: i for i in wait_until(timeline, message="note in the timeline")}
        assert items[note_id]["channel"] == "note"
        assert items[note_id]["agent_id"] == "emp-7"
        assert items[note_id]["body"] == note["text"]
        assert items[call["id"]]["outcome"] == "callback"
        only_notes = api.get(f"/v1/customers/{cid}/timeline", params={"channel": "note"},
                             headers=auth("agent", "emp-7")).json()["items"]
        assert [i["id"] for i in only_notes] == [note_id]
        access_actions(api, auth, "emp-7", {"customer.note"})


def test_bad_notes_are_refused_with_a_reason(settings, ingest, api, auth):
    with running(settings, WORK_WORKERS):
        cid, _ = customer_through_pipeline(ingest, api, auth)
        bad_outcome = api.post(f"/v1/customers/{cid}/notes", json={"text": "x", "outcome": "maybe"},
                               headers=auth("agent", "emp-7"))
        assert bad_outcome.status_code == 422 and "callback" in bad_outcome.json()["error"]["message"]
        unknown = api.post(f"/v1/customers/{cid}/notes",
                           json={"text": "x", "interaction_id": "00000000-0000-4000-8000-000000000000"},
                           headers=auth("agent", "emp-7"))
        assert unknown.status_code == 404
        nobody = api.post("/v1/customers/00000000-0000-4000-8000-000000000001/notes", json={"text": "x"},
                          headers=auth("agent", "emp-7"))
        assert nobody.status_code == 404
        empty = api.post(f"/v1/customers/{cid}/notes", json={"text": ""}, headers=auth("agent", "emp-7"))
        assert empty.status_code == 422
        forbidden = api.post(f"/v1/customers/{cid}/notes", json={"text": "x"}, headers=auth("channel", "tel"))
        assert forbidden.status_code == 403


def test_the_profile_shows_on_the_card_and_a_manual_name_wins_over_traffic(settings, ingest, api, auth):
    with running(settings, WORK_WORKERS):
        cid, call = customer_through_pipeline(ingest, api, auth)
        change = {"name": "Ирина Сергеевна Петрова", "birth_date": "1988-02-29", "company": "ООО Ромашка",
                  "tags": ["vip", "опт"], "owner": "emp-7"}
        answer = api.patch(f"/v1/customers/{cid}", json=change, headers=auth("agent", "emp-7"))
        assert answer.status_code == 202, answer.text
        card = card_until(api, auth, cid, lambda c: c.get("owner") == "emp-7", "profile on the card")
        assert (card["name"], card["birth_date"], card["company"]) == (change["name"], "1988-02-29", "ООО Ромашка")
        assert card["tags"] == ["vip", "опт"]
        again = dict(call, external_id=call["external_id"] + "-2", occurred_at="2026-11-20T10:00:00+03:00",
                     customer={**call["customer"], "name": "Ира Петрова"})
        again.pop("id")
        assert ingest.post("/v1/interactions", json=again, headers=auth("channel", "tel")).status_code == 202
        card = card_until(api, auth, cid, lambda c: c["stats"]["total"] == 2, "second call on the card")
        assert card["name"] == change["name"]
        cleared = api.patch(f"/v1/customers/{cid}", json={"company": None}, headers=auth("agent", "emp-7"))
        assert cleared.status_code == 202
        card = card_until(api, auth, cid, lambda c: c["company"] is None, "company cleared")
        assert card["owner"] == "emp-7" and card["birth_date"] == "1988-02-29"


def test_profile_changes_are_checked(settings, ingest, api, auth):
    with running(settings, WORK_WORKERS):
        cid, _ = customer_through_pipeline(ingest, api, auth)
        for body in ({"birth_date": "1990-02-30"}, {"birth_date": "2999-01-01"}, {}, {"tags": "vip"},
                     {"nickname": "x"}):
            answer = api.patch(f"/v1/customers/{cid}", json=body, headers=auth("agent", "emp-7"))
            assert answer.status_code == 422, body
            assert answer.json()["error"]["message"]
        other = api.patch(f"/v1/customers/{cid}", json={"owner": "emp-8"}, headers=auth("agent", "emp-7"))
        assert other.status_code == 403
        by_lead = api.patch(f"/v1/customers/{cid}", json={"owner": "emp-8"}, headers=auth("supervisor", "sup-1"))
        assert by_lead.status_code == 202


def test_a_request_follows_its_sla_and_allowed_transitions_and_lists_on_the_card(settings, ingest, api, auth):
    with running(settings, WORK_WORKERS):
        cid, call = customer_through_pipeline(ingest, api, auth)
        before = datetime.now(UTC)
        opened = api.post(f"/v1/customers/{cid}/requests", headers=auth("agent", "emp-7"),
                          json={"subject": "Возврат товара", "priority": "urgent", "interaction_id": call["id"]})
        assert opened.status_code == 202, opened.text
        rid = opened.json()["id"]
        card = card_until(api, auth, cid, lambda c: bool(c["open_requests"]), "request on the card")
        assert [r["id"] for r in card["open_requests"]] == [rid]
        [item] = listed(api, auth, "/v1/requests", {"customer_id": cid}, bool, "request listed")
        assert (item["status"], item["priority"], item["assignee"]) == ("open", "urgent", "emp-7")
        due = datetime.fromisoformat(item["due_at"]) - datetime.fromisoformat(item["opened_at"])
        assert due == timedelta(hours=4) and datetime.fromisoformat(item["opened_at"]) >= before
        for status in ("pending", "resolved"):
            moved = api.post(f"/v1/requests/{rid}/status", json={"status": status, "comment": "ok"},
                             headers=auth("agent", "emp-7"))
            assert moved.status_code == 202, moved.text
            listed(api, auth, "/v1/requests", {"customer_id": cid, "status": status}, bool, f"request {status}")
        refused = api.post(f"/v1/requests/{rid}/status", json={"status": "pending"}, headers=auth("agent", "emp-7"))
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "invalid_transition"
        [done] = listed(api, auth, "/v1/requests", {"customer_id": cid}, bool, "resolved request")
        assert done["resolved_at"] is not None and done["first_response_at"] is not None
        card_until(api, auth, cid, lambda c: c["open_requests"] == [], "no open request on the card")
        unknown = api.post("/v1/requests/00000000-0000-4000-8000-000000000000/status", json={"status": "closed"},
                           headers=auth("agent", "emp-7"))
        assert unknown.status_code == 404
        bad = api.post(f"/v1/customers/{cid}/requests", json={"subject": "x", "priority": "asap"},
                       headers=auth("agent", "emp-7"))
        assert bad.status_code == 422
        records = access_actions(api, auth, "emp-7", {"request.open", "request.status"})
        assert all(cid in r["customer_ids"] for r in records if r["action"].startswith("request."))


def test_tasks_are_created_listed_per_agent_and_done(settings, ingest, api, auth):
    with running(settings, WORK_WORKERS):
        cid, _ = customer_through_pipeline(ingest, api, auth)
        due = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        created = api.post("/v1/tasks", json={"customer_id": cid, "title": "Перезвонить", "due_at": due},
                           headers=auth("agent", "emp-7"))
        assert created.status_code == 202, created.text
        tid = created.json()["id"]
        mine = listed(api, auth, "/v1/tasks", {"assignee": "me"}, bool, "my task", who=("agent", "emp-7"))
        assert [(t["id"], t["assignee"], t["status"]) for t in mine] == [(tid, "emp-7", "open")]
        assert api.get("/v1/tasks", params={"assignee": "me"}, headers=auth("agent", "emp-8")).json()["items"] == []
        assert api.get("/v1/tasks", params={"assignee": "emp-7"}, headers=auth("agent", "emp-8")).status_code == 403
        assert api.post(f"/v1/tasks/{tid}/done", headers=auth("agent", "emp-8")).status_code == 403
        assert api.post(f"/v1/tasks/{tid}/done", headers=auth("agent", "emp-7")).status_code == 202
        listed(api, auth, "/v1/tasks", {"assignee": "emp-7", "status": "done"}, bool, "task done")
        assert api.post(f"/v1/tasks/{tid}/done", headers=auth("agent", "emp-7")).status_code == 409
        naive = api.post("/v1/tasks", json={"customer_id": cid, "title": "x", "due_at": "2026-12-01T10:00:00"},
                         headers=auth("agent", "emp-7"))
        assert naive.status_code == 422
        records = access_actions(api, auth, "emp-7", {"task.create", "task.done", "task.list"})
        assert any(r["action"] == "task.create" and r["customer_ids"] == [cid] for r in records)


def test_an_employee_who_left_cannot_write(settings, ingest, api, auth):
    with running(settings, WORK_WORKERS):
        cid, _ = customer_through_pipeline(ingest, api, auth)
        left = api.post("/v1/employees/emp-gone/status", json={"status": "left"}, headers=auth("admin", "adm-1"))
        assert left.status_code == 202
        for method, path, body in (("post", f"/v1/customers/{cid}/notes", {"text": "x"}),
                                   ("patch", f"/v1/customers/{cid}", {"company": "x"}),
                                   ("post", "/v1/tasks", {"customer_id": cid, "title": "x",
                                                          "due_at": "2026-12-10T10:00:00+00:00"})):
            answer = getattr(api, method)(path, json=body, headers=auth("agent", "emp-gone"))
            assert answer.status_code == 403 and answer.json()["error"]["code"] == "employee_left", path
