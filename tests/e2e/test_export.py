"""The data-subject export stays complete as the customer grows: merges, splits (the undo of a
merge), identifiers with where they were seen, the agent's work, the merge history and the
access records about them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.data import interaction, unique_phone
from tests.support.work import WORK_WORKERS
from tests.support.workers import running, wait_until

pytestmark = pytest.mark.integration


def _post(ingest, auth, item: dict[str, Any]) -> str:
    answer = ingest.post("/v1/interactions", json=item, headers=auth("channel", "tel"))
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])


def _customer_of(api, auth, q: str) -> str:
    return str(wait_until(lambda: api.get("/v1/customers", params={"q": q}, headers=auth("agent", "p"))
                          .json()["items"], message=f"{q} found")[0]["id"])


def _export(api, auth, cid: str) -> dict[str, Any]:
    answer = api.get(f"/v1/customers/{cid}/export", headers=auth("agent", "emp-x"))
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _merged_pair(ingest, api, auth) -> dict[str, Any]:
    phone, email = unique_phone(), f"m-{uuid.uuid4().hex[:8]}@example.ru"
    first = _post(ingest, auth, interaction(customer={"phone": phone}, body="звонок"))
    second = _post(ingest, auth, interaction(channel="email", customer={"email": email}, body="письмо"))
    a, b = _customer_of(api, auth, phone), _customer_of(api, auth, email)
    third = _post(ingest, auth, interaction(channel="chat", customer={"phone": phone, "email": email}, body="чат"))

    def merged() -> str | None:
        ids = {api.get(f"/v1/customers/{c}", headers=auth("agent", "p")).json()["id"] for c in (a, b)}
        return ids.pop() if len(ids) == 1 else None

    root = wait_until(merged, message="merged")
    wait_until(lambda: _export(api, auth, root)["count"] == 3, message="all three in the export")
    return {"root": root, "members": {a, b}, "phone": phone, "email": email,
            "interactions": {first, second, third}}


def test_the_export_of_a_merged_customer_holds_every_members_interactions_identifiers_and_history(
        settings, ingest, api, auth):
    with running(settings, WORK_WORKERS):
        pair = _merged_pair(ingest, api, auth)
        for cid in pair["members"]:  # by either id: the same whole
            doc = _export(api, auth, cid)
            assert {i["id"] for i in doc["timeline"]} == pair["interactions"]
            assert {i["customer_id"] for i in doc["timeline"]} <= pair["members"]
        ids = {(i["kind"], i["value"]): i for i in doc["customer"]["identifiers"]}
        assert set(ids) == {("phone", "+7" + "".join(c for c in pair["phone"] if c.isdigit())[1:]),
                            ("email", pair["email"])}
        for ident in ids.values():  # provenance: where and when it was seen
            assert ident["channel"] and ident["first_seen"] and ident["last_seen"]
        kinds = {h["kind"] for h in doc["customer"]["history"]}
        assert {"merged_in", "merged_into"} & kinds, doc["customer"]["history"]
        assert set(doc["customer"]["members"]) == pair["members"]


def test_the_export_follows_a_split_that_undoes_a_merge(settings, ingest, api, auth):
    with running(settings, WORK_WORKERS):
        pair = _merged_pair(ingest, api, auth)
        answer = api.post(f"/v1/customers/{pair['root']}/split",
                          json={"identifiers": [{"kind": "email", "value": pair["email"]}], "reason": "не тот"},
                          headers=auth("supervisor", "sup-1"))
        assert answer.status_code == 202, answer.text
        target = answer.json()["target_customer_id"]
        moved = wait_until(lambda: api.get(f"/v1/customers/{target}/export", headers=auth("agent", "x")).json()
                           if api.get(f"/v1/customers/{target}", headers=auth("agent", "x")).status_code == 200
                           else None, message="split target exported")
        source = wait_until(lambda: (d := _export(api, auth, pair["root"]))["count"] < 3 and d, message="moved away")
        assert [i["body"] for i in moved["timeline"]] == ["письмо"]
        assert {i["body"] for i in source["timeline"]} == {"звонок", "чат"}
        assert "split_off" in {h["kind"] for h in source["customer"]["history"]}


def test_the_export_holds_notes_profile_requests_tasks_and_the_access_records(settings, ingest, api, auth):
    with running(settings, WORK_WORKERS):
        phone = unique_phone()
        _post(ingest, auth, interaction(customer={"phone": phone}, body="звонок"))
        cid = _customer_of(api, auth, phone)
        agent = auth("agent", "emp-w")
        due = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        for method, path, payload in (
                ("post", f"/v1/customers/{cid}/notes", {"text": "обещали скидку"}),
                ("patch", f"/v1/customers/{cid}", {"company": "ИП Сидоров", "tags": ["vip"]}),
                ("post", f"/v1/customers/{cid}/requests", {"subject": "доставка", "priority": "normal"}),
                ("post", "/v1/tasks", {"customer_id": cid, "title": "уточнить адрес", "due_at": due})):
            assert getattr(api, method)(path, json=payload, headers=agent).status_code == 202, path

        def complete() -> dict[str, Any] | None:
            doc = _export(api, auth, cid)
            return doc if doc["notes"] and doc["profiles"] and doc["requests"] and doc["tasks"] else None

        doc = wait_until(complete, message="the work exported")
        assert doc["notes"][0]["text"] == "обещали скидку"
        assert doc["profiles"][0]["company"] == "ИП Сидоров" and doc["profiles"][0]["tags"] == ["vip"]
        assert doc["requests"][0]["subject"] == "доставка" and doc["requests"][0]["status"] == "open"
        assert doc["tasks"][0]["title"] == "уточнить адрес"
        actions = wait_until(lambda: {a["action"] for a in _export(api, auth, cid)["access_records"]}
                             >= {"customer.note", "customer.profile", "request.open", "task.create", "customer.export"}
                             and {a["action"] for a in _export(api, auth, cid)["access_records"]},
                             message="access records exported")
        assert "customer.search" in actions
        assert all("query" not in a for a in _export(api, auth, cid)["access_records"])
