"""Personal data (issue 16) on the real stack: nothing readable on the log or in the event store,
erasure everywhere (read models, rebuild, a broker that lost its log), legal holds."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from events import sealing, topics
from kartoteka.keystore import KeyRing, issue_sync, master_key
from services.projections.rebuild import rebuild
from tests.support.data import interaction, unique_phone
from tests.support.kafka_tools import read_all
from tests.support.plain_scan import plain_hits
from tests.support.work import WORK_WORKERS, card_until
from tests.support.workers import running, wait_until

pytestmark = pytest.mark.integration
Auth = Callable[..., dict[str, str]]


def _post(ingest: TestClient, auth: Auth, item: dict[str, Any]) -> str:
    answer = ingest.post("/v1/interactions", json=item, headers=auth("channel", "tel"))
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])


def _found(api: TestClient, auth: Auth, q: str) -> list[dict[str, Any]]:
    answer = api.get("/v1/customers", params={"q": q}, headers=auth("agent", "emp-poller"))
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def _searchable(api: TestClient, auth: Auth, q: str) -> str:
    return str(wait_until(lambda: _found(api, auth, q), message=f"{q} searchable")[0]["id"])


def _digits(phone: str) -> str:
    return re.sub(r"\D", "", phone)[1:]  # 916...: in the E.164 form and in the local one


def test_no_personal_field_lies_in_plain_text_on_the_topics_or_in_the_event_store(settings, ingest, api, auth):
    phone, email = unique_phone(), f"secret-{uuid.uuid4().hex[:8]}@example.ru"
    name, body = f"Зоя Тайнова{uuid.uuid4().hex[:6]}", f"Моя карта {uuid.uuid4().hex[:10]}"
    subject, note = f"Жалоба {uuid.uuid4().hex[:8]}", f"Перезвонить {uuid.uuid4().hex[:8]}"
    with running(settings, WORK_WORKERS):
        _post(ingest, auth, interaction(customer={"phone": phone, "email": email, "name": name},
                                        subject=subject, body=body, details={"address": f"ул. {body}"}))
        cid = _searchable(api, auth, phone)
        assert _found(api, auth, name), "the search by name is an access record holding the name"
        assert api.post(f"/v1/customers/{cid}/notes", json={"text": note},
                        headers=auth("agent", "emp-1")).status_code == 202
        wait_until(lambda: any(i["channel"] == "note" for i in api.get(
            f"/v1/customers/{cid}/timeline", headers=auth("agent", "emp-1")).json()["items"]), message="note shown")
    secrets = [_digits(phone), email, name, body, subject, note]
    for topic in (topics.INTERACTIONS, topics.CUSTOMERS, topics.WORK_COMMANDS, topics.ACCESS):
        records = read_all(settings, settings.topic(topic))
        assert records, topic
        assert all(sealing.is_sealed(r.value) for r in records), f"a plain record on {topic}"
        raw = b"".join((r.key or b"") + r.value for r in records)
        for secret in secrets:
            assert secret.encode() not in raw, f"{secret!r} readable on {topic}"
    with psycopg.connect(settings.dsn) as conn:
        stored = b"".join(bytes(r[0]) for r in conn.execute("SELECT state FROM identity_events"))
    for secret in secrets:
        assert secret.encode() not in stored, f"{secret!r} readable in the event store"


def _status(api: TestClient, auth: Auth, path: str, role: str = "agent") -> int:
    return int(api.get(path, headers=auth(role, "emp-reader")).status_code)


def _gone(api: TestClient, auth: Auth, ids: list[str]) -> bool:
    return all(_status(api, auth, f"/v1/customers/{c}{tail}") == 410
               for c in ids for tail in ("", "/timeline", "/export"))


def _erasable_customer(ingest: TestClient, api: TestClient, auth: Auth) -> dict[str, Any]:
    """A customer merged from two, with notes, a profile, a request and a task."""
    phone, email, other = unique_phone(), f"a-{uuid.uuid4().hex[:8]}@example.ru", f"b-{uuid.uuid4().hex[:8]}@example.ru"
    name, tag = f"Ольга Стираемая{uuid.uuid4().hex[:6]}", uuid.uuid4()
    born = f"19{30 + tag.int % 70}-{1 + tag.int // 70 % 12:02d}-{1 + tag.int // 840 % 28:02d}"
    address, note = f"ул. Забытая, д. {tag.hex[:6]}", f"заметка {tag.hex[6:14]}"
    first_call = interaction(customer={"phone": phone, "email": email, "name": name}, body="первый",
                             details={"birth_date": born, "address": address})
    _post(ingest, auth, first_call)
    _post(ingest, auth, interaction(channel="email", customer={"email": other}, body="второй"))
    first, second = _searchable(api, auth, email), _searchable(api, auth, other)
    _post(ingest, auth, interaction(customer={"phone": phone, "email": other}, body="третий"))
    def merged() -> str | None:
        cards = [api.get(f"/v1/customers/{c}", headers=auth("agent", "e")).json()["id"] for c in (first, second)]
        return cards[0] if cards[0] == cards[1] else None

    root = wait_until(merged, message="the two customers merged")
    agent = auth("agent", "emp-5")
    due = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    for method, path, payload in (
            ("post", f"/v1/customers/{root}/notes", {"text": note}),
            ("patch", f"/v1/customers/{root}", {"company": "ООО Ромашка", "owner": "emp-5"}),
            ("post", f"/v1/customers/{root}/requests", {"subject": "возврат", "priority": "high"}),
            ("post", "/v1/tasks", {"customer_id": root, "title": "перезвонить", "due_at": due})):
        assert getattr(api, method)(path, json=payload, headers=agent).status_code == 202, path
    card_until(api, auth, root, lambda c: c.get("company") == "ООО Ромашка" and c["open_requests"], "work shown")
    wait_until(lambda: api.get("/v1/tasks", params={"assignee": "emp-5"}, headers=agent).json()["items"],
               message="task listed")
    return {"root": root, "members": sorted({first, second}), "phone": phone, "email": email, "name": name,
            "secrets": [_digits(phone), email, other, name, born, address, note], "first_call": first_call}


def _traces(dsn: str, ids: list[str]) -> dict[str, int]:
    """Rows about ``ids`` left in each read model and key table."""
    checks = {
        "customers": "SELECT count(*) FROM customers WHERE id = ANY(%s::uuid[])",
        "timeline": "SELECT count(*) FROM timeline WHERE customer_id = ANY(%s::uuid[])",
        "identifiers": "SELECT count(*) FROM customer_identifiers WHERE customer_id = ANY(%s::uuid[])",
        "notes": "SELECT count(*) FROM work_notes WHERE customer_id = ANY(%s::uuid[])",
        "requests": "SELECT count(*) FROM work_requests WHERE customer_id = ANY(%s::uuid[])",
        "tasks": "SELECT count(*) FROM work_tasks WHERE customer_id = ANY(%s::uuid[])",
        "profiles": "SELECT count(*) FROM customer_profiles WHERE customer_id = ANY(%s::uuid[])",
        "contacts": "SELECT count(*) FROM customer_contacts WHERE customer_id = ANY(%s::uuid[])",
        "customer keys": "SELECT count(*) FROM data_keys WHERE subject = ANY(%s)",
    }
    with psycopg.connect(dsn) as conn:
        return {name: conn.execute(sql, ([f"c:{i}" for i in ids] if "keys" in name else ids,)).fetchone()[0]
                for name, sql in checks.items()}


def test_erasure_removes_the_customer_from_every_read_model_and_rebuild_and_keeps_the_audit(
        settings, infra, ingest, api, auth):
    with running(settings, (*WORK_WORKERS, "duplicates", "anchor")):  # anchor: the chain verifies as deployed
        who = _erasable_customer(ingest, api, auth)
        root, ids = who["root"], who["members"]
        assert api.post(f"/v1/customers/{root}/erase", json={"reason": "отзыв согласия"},
                        headers=auth("supervisor", "sup-1")).status_code == 403
        assert api.post(f"/v1/customers/{root}/erase", json={"reason": " "},
                        headers=auth("admin", "adm-1")).status_code == 422
        answer = api.post(f"/v1/customers/{root}/erase", json={"reason": "отзыв согласия"},
                          headers=auth("admin", "adm-1"))
        assert answer.status_code == 202, answer.text
        wait_until(lambda: _gone(api, auth, ids), message="every id answers 410")
        for q in (who["phone"], who["email"], who["name"]):
            assert _found(api, auth, q) == [], q
        _erased_on_the_desk(api, auth, root, who["phone"])
        supervisor = auth("supervisor", "sup-1")
        assert api.get("/v1/requests", params={"customer_id": root}, headers=supervisor).status_code == 410
        listed = api.get("/v1/requests", params={"assignee": "emp-5"}, headers=supervisor).json()["items"]
        assert not {r["customer_id"] for r in listed} & set(ids)
        tasks = api.get("/v1/tasks", params={"assignee": "emp-5"}, headers=auth("agent", "emp-5"))
        assert tasks.status_code == 200 and tasks.json()["items"] == [], tasks.text
        dormant = api.get("/v1/reports/dormant", params={"days": 7, "limit": 500}, headers=supervisor)
        assert dormant.status_code == 200, dormant.text
        assert not {d["id"] for d in dormant.json()["items"]} & set(ids)
        assert api.post(f"/v1/customers/{root}/notes", json={"text": "x"},
                        headers=auth("agent", "emp-5")).status_code == 410
        assert all(n == 0 for n in _traces(settings.dsn, ids).values()), _traces(settings.dsn, ids)
        wait_until(lambda: not plain_hits(settings.dsn, who["secrets"]), message="nothing readable left",
                   timeout_s=30)
        _resent_stays_erased(settings, ingest, api, auth, who)
        officer = auth("security_officer", "sec-1")
        trail = wait_until(lambda: [i for i in api.get("/v1/audit/access", params={"customer_id": root, "limit": 500},
                                                        headers=officer).json()["items"]
                                    if i["action"] == "customer.erase"], message="erasure audited")
        assert trail[0]["employee_id"] == "adm-1"
        assert len(api.get("/v1/audit/access", params={"customer_id": root, "limit": 500},
                           headers=officer).json()["items"]) > 5, "the reads before the erasure stay"
        verified = api.get("/v1/audit/verify", headers=officer).json()
        assert verified["ok"] is True, verified
        # The person calls again: a new customer, with nothing of the old history.
        _post(ingest, auth, interaction(customer={"phone": who["phone"]}, body="снова я"))
        fresh = _searchable(api, auth, who["phone"])
        assert fresh not in ids
        items = api.get(f"/v1/customers/{fresh}/timeline", headers=auth("agent", "e")).json()["items"]
        assert [i["body"] for i in items] == ["снова я"]
    rebuild(settings)
    assert all(n == 0 for n in _traces(settings.dsn, ids).values()), "a rebuild brought the customer back"
    left = plain_hits(settings.dsn, who["secrets"][1:])  # the phone came back with the new customer
    assert left == [], left
    assert _status(api, auth, f"/v1/customers/{fresh}") == 200
    infra.restart_broker()  # the in-memory log is gone: the relay republishes from the start
    with running(settings, WORK_WORKERS):
        wait_until(lambda: _status(api, auth, f"/v1/customers/{fresh}") == 200
                   and len(api.get(f"/v1/customers/{fresh}/timeline", headers=auth("agent", "e")).json()["items"]) == 1,
                   message="stack back after the broker restart", timeout_s=60)
        assert _gone(api, auth, ids)
    assert all(n == 0 for n in _traces(settings.dsn, ids).values())


def test_a_legal_hold_refuses_erasure_with_its_reason_until_it_is_lifted(settings, ingest, api, auth):
    with running(settings, WORK_WORKERS):
        phone = unique_phone()
        _post(ingest, auth, interaction(customer={"phone": phone}))
        cid = _searchable(api, auth, phone)
        admin = auth("admin", "adm-2")
        until = (datetime.now(UTC) + timedelta(days=30)).isoformat()
        assert api.post(f"/v1/customers/{cid}/hold", json={"reason": "дело 7/26", "until": until},
                        headers=auth("supervisor", "s")).status_code == 403
        assert api.post(f"/v1/customers/{cid}/hold", json={"reason": "дело 7/26", "until": "2027-01-01"},
                        headers=admin).status_code == 422, "an end without its offset"
        assert api.post(f"/v1/customers/{cid}/hold", json={"reason": "дело 7/26", "until": until},
                        headers=admin).status_code == 202

        def refused() -> dict[str, Any] | None:
            answer = api.post(f"/v1/customers/{cid}/erase", json={"reason": "просьба"}, headers=admin)
            assert answer.status_code in (202, 409), answer.text
            return answer.json() if answer.status_code == 409 else None

        # Until the resolver records the hold an erasure would pass: wait for the hold first.
        wait_until(lambda: _held(settings.dsn, cid), message="hold recorded")
        error = refused()
        assert error is not None and "дело 7/26" in error["error"]["message"]
        assert _status(api, auth, f"/v1/customers/{cid}") == 200
        lifted = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
        assert api.post(f"/v1/customers/{cid}/hold", json={"reason": "дело закрыто", "until": lifted},
                        headers=admin).status_code == 202
        wait_until(lambda: not _held(settings.dsn, cid), message="hold lifted")
        assert api.post(f"/v1/customers/{cid}/erase", json={"reason": "просьба"}, headers=admin).status_code == 202
        wait_until(lambda: _status(api, auth, f"/v1/customers/{cid}") == 410, message="erased")


def _held(dsn: str, customer_id: str) -> bool:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT until > now() FROM legal_holds WHERE customer_id = %s", (customer_id,)).fetchone()
    return bool(row and row[0])


def _erased_on_the_desk(api: TestClient, auth: Auth, root: str, phone: str) -> None:
    """The agent's pages: the card answers 410 with a page saying why, the search finds nobody."""
    token = auth("agent", "emp-desk")["Authorization"].split()[1]
    api.get("/login")
    signed_in = api.post("/login", data={"token": token, "csrf": api.cookies.get("kartoteka_login_csrf") or ""},
                         headers={"origin": str(api.base_url)}, follow_redirects=False)
    try:
        assert signed_in.status_code == 303, signed_in.text[:300]
        card = api.get(f"/desk/customers/{root}", headers={"accept-language": "ru"})
        assert card.status_code == 410 and "text/html" in card.headers["content-type"], card.text[:300]
        assert "стёрты по запросу" in card.text and "Traceback" not in card.text
        assert api.get(f"/desk/customers/{root}/timeline", headers={"hx-request": "true"}).status_code == 410
        search = api.get("/desk", params={"q": phone})
        assert search.status_code == 200 and root not in search.text
    finally:
        api.cookies.clear()


def _resent_stays_erased(settings: Any, ingest: TestClient, api: TestClient, auth: Auth, who: dict[str, Any]) -> None:
    """The channel sends the erased call again (same external id): it was received before, so it
    is a duplicate; no fresh key is issued under its shredded subject and nothing comes back."""
    answer = ingest.post("/v1/interactions", json=who["first_call"], headers=auth("channel", "tel"))
    assert answer.status_code == 200 and answer.json()["status"] == "duplicate", answer.text
    subject = sealing.interaction_subject(answer.json()["id"])
    with psycopg.connect(settings.dsn) as conn:
        assert conn.execute("SELECT count(*) FROM data_keys WHERE subject = %s", (subject,)).fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM shredded_subjects WHERE subject = %s", (subject,)).fetchone() == (1,)
        # Even a path that skips the receipts (the raw topic's validator) gets no key for it.
        with conn.transaction():
            issued = issue_sync(KeyRing(master_key(settings)), conn, [subject])
        assert issued == {}
        assert conn.execute("SELECT count(*) FROM data_keys WHERE subject = %s", (subject,)).fetchone() == (0,)
    assert _found(api, auth, who["email"]) == []
