"""The channel-native routes through the real ingest: records on Kafka, duplicates, refusals."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from events import topics
from events.envelope import decode
from kartoteka.auth import Role, mint
from services.ingest.app import create_app
from tests.support.ids import deployed_id
from tests.support.kafka_tools import opened, read_all
from tests.support.workers import running, wait_until

pytestmark = pytest.mark.integration
DATA = Path(__file__).parent.parent / "data"
MAIL = "message/rfc822"


def channel(settings) -> dict[str, str]:
    """A channel token for settings of the test's own (not the fixture's secret)."""
    return {"Authorization": f"Bearer {mint(settings.secret, 'gateway', Role.channel, 3600)}"}


def on_kafka(settings) -> dict:
    values = opened(settings, read_all(settings, settings.topic(topics.INTERACTIONS)))  # sealed past ingest
    return {decode(v)[0].id: decode(v)[1] for v in values}


def test_a_raw_mail_is_accepted_once_and_a_redelivery_is_a_duplicate(settings, ingest, auth):
    raw = (DATA / "email" / "git_list_windows1251_qp.eml").read_bytes()
    headers = {**auth("channel", "mail-gw"), "content-type": MAIL}
    first = ingest.post("/v1/channels/email", content=raw, headers=headers)
    again = ingest.post("/v1/channels/email", content=raw, headers=headers)
    expected = deployed_id(settings, "email", "6110218480.20120904152542@reg.ru")
    assert (first.status_code, first.json()) == (202, {"id": expected, "status": "accepted"})
    assert (again.status_code, again.json()) == (200, {"id": expected, "status": "duplicate"})
    stored = on_kafka(settings)
    assert list(stored) == [expected]
    assert stored[expected].customer.name == "Коньков Евгений"
    assert stored[expected].details["thread_id"] == "6110218480.20120904152542@reg.ru"


def test_mail_refusals_are_4xx_in_the_contract_shape(settings, ingest, auth):
    headers = {**auth("channel", "mail-gw"), "content-type": MAIL}
    no_sender = ingest.post("/v1/channels/email", content=b"Subject: x\n\nbody", headers=headers)
    assert no_sender.status_code == 422 and no_sender.json()["error"]["code"] == "no_sender"
    as_agent = ingest.post("/v1/channels/email", content=b"From: a@b.ru\n\nx",
                           headers={**auth("agent"), "content-type": MAIL})
    assert as_agent.status_code == 403
    assert on_kafka(settings) == {}


def test_mail_over_the_size_limit_answers_413_and_the_limit_exceeds_the_json_default(infra):
    settings = infra.new_settings(email_max_bytes=4096)
    with TestClient(create_app(settings)) as client:
        headers = {**channel(settings), "content-type": MAIL}
        big = b"From: a@example.ru\nMessage-ID: <big@x>\n\n" + b"x" * 5000
        assert client.post("/v1/channels/email", content=big, headers=headers).status_code == 413
        chunked = client.post("/v1/channels/email", content=iter([big[:3000], big[3000:]]), headers=headers)
        assert chunked.status_code == 413 and chunked.json()["error"]["code"] == "payload_too_large"
    large = infra.new_settings()  # the 25 MB default: a 9 MB mail passes the 8 MB JSON limit
    with TestClient(create_app(large)) as client:
        raw = b"From: a@example.ru\nMessage-ID: <nine@x>\nContent-Type: application/pdf\n\n" + b"x" * (9 << 20)
        answer = client.post("/v1/channels/email", content=raw, headers={**channel(large), "content-type": MAIL})
        assert answer.status_code == 202, answer.text


def test_cdr_lines_answer_per_line_and_a_resend_is_all_duplicates(settings, ingest, auth):
    csv = (DATA / "cdr" / "Master.csv").read_bytes()
    headers = {**auth("channel", "pbx"), "content-type": "text/csv"}
    results = ingest.post("/v1/channels/telephony/cdr", content=csv, headers=headers).json()["results"]
    assert [r["status"] for r in results] == ["accepted"] * 3 + ["rejected"] * 2 + ["accepted"]
    assert "internal extensions" in results[3]["error"]
    again = ingest.post("/v1/channels/telephony/cdr", content=csv, headers=headers).json()["results"]
    assert Counter(r["status"] for r in again) == {"duplicate": 4, "rejected": 2}
    assert sorted(on_kafka(settings)) == sorted(r["id"] for r in results if r["status"] == "accepted")


def test_freeswitch_json_on_the_same_path(settings, ingest, auth):
    record = {"variables": {"uuid": "fs-1", "direction": "inbound", "caller_id_number": "+79123456789",
                            "start_epoch": "1763622000", "billsec": "10", "duration": "12"}}
    answer = ingest.post("/v1/channels/telephony/cdr", json=record, headers=auth("channel", "pbx"))
    expected = deployed_id(settings, "call", "fs-1")
    assert answer.json()["results"] == [{"id": expected, "status": "accepted", "error": None}]


def test_web_forms_honeypot_rate_limit_and_retries(infra):
    settings = infra.new_settings(web_form_rate_per_minute=4)
    with TestClient(create_app(settings)) as client:
        headers = channel(settings)
        form = {"name": "Ирина", "phone": "8 912 345-67-89", "message": "Перезвоните"}
        first = client.post("/v1/channels/web-form/contact", data=form, headers=headers)
        retry = client.post("/v1/channels/web-form/contact", data=form, headers=headers)
        bot = client.post("/v1/channels/web-form/contact", data={**form, "website": "http://x"}, headers=headers)
        assert first.status_code == 202 and retry.json() == {"id": first.json()["id"], "status": "duplicate"}
        assert bot.status_code == 202 and bot.json()["status"] == "accepted"
        assert list(on_kafka(settings)) == [first.json()["id"]]  # the bot's submission is nowhere
        limited = client.post("/v1/channels/web-form/contact", data=form, headers=headers)
        limited = client.post("/v1/channels/web-form/contact", data=form, headers=headers)
        assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
        # Relayed by the site's backend: each visitor's forwarded address has its own allowance.
        visitor = client.post("/v1/channels/web-form/contact", data=form,
                              headers={**headers, "X-Forwarded-For": "203.0.113.7, 10.0.0.1"})
        assert visitor.status_code == 200 and visitor.json()["status"] == "duplicate"


def test_telegram_updates_secret_token_retries_and_quiet_acknowledgements(infra):
    settings = infra.new_settings(telegram_secret_token="s3cret")
    updates = json.loads((DATA / "telegram" / "updates.json").read_text())
    with TestClient(create_app(settings)) as client:
        headers = {**channel(settings), "X-Telegram-Bot-Api-Secret-Token": "s3cret"}
        wrong = client.post("/v1/channels/telegram", json=updates["cyrillic"],
                            headers={**headers, "X-Telegram-Bot-Api-Secret-Token": "nope"})
        assert wrong.status_code == 403
        text = client.post("/v1/channels/telegram", json=updates["cyrillic"], headers=headers)
        retried = client.post("/v1/channels/telegram", json=updates["cyrillic"], headers=headers)
        edited = client.post("/v1/channels/telegram", json=updates["edited"], headers=headers)
        assert text.status_code == 202 and retried.json()["status"] == "duplicate"
        assert (edited.status_code, edited.json()["status"]) == (200, "ignored")
        assert list(on_kafka(settings)) == [deployed_id(settings, "chat", "tg:update:10001")]


def test_a_telegram_chat_and_the_contact_shared_in_it_are_one_customer_with_the_phone(
        settings, ingest, api, auth):
    updates = json.loads((DATA / "telegram" / "updates.json").read_text())
    for name in ("cyrillic", "contact"):
        sent = ingest.post("/v1/channels/telegram", json=updates[name], headers=auth("channel", "bot"))
        assert sent.status_code == 202, sent.text
    with running(settings, ("resolver", "relay", "timeline")):
        found = wait_until(lambda: api.get("/v1/customers", params={"q": "+7 912 345-67-89"},
                                           headers=auth("agent", "emp-1")).json()["items"],
                           message="the shared phone finds the customer")
    card = api.get(f"/v1/customers/{found[0]['id']}", headers=auth("agent", "emp-1")).json()
    assert {(i["kind"], i["value"]) for i in card["identifiers"]} >= {
        ("handle", "tg:2222222"), ("phone", "+79123456789")}
    assert card["name"] == "Ирина Петрова"
    timeline = api.get(f"/v1/customers/{found[0]['id']}/timeline", headers=auth("agent", "emp-1")).json()
    assert sorted(i["external_id"] for i in timeline["items"]) == ["tg:update:10001", "tg:update:10002"]
