"""Telegram updates and site forms -> canonical interactions; the per-address rate limit."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from events.interaction import Interaction
from services.ingest.channels.common import Refused
from services.ingest.channels.rate import RateLimit
from services.ingest.channels.telegram import parse_update
from services.ingest.channels.web_form import FormConfig, Honeypot, parse_form

UPDATES = json.loads((Path(__file__).parent.parent / "data" / "telegram" / "updates.json").read_text())
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
URLENCODED = "application/x-www-form-urlencoded"


def update(name: str) -> bytes:
    return json.dumps(UPDATES[name]).encode()


def test_a_text_message_is_a_chat_from_the_senders_handle():
    item = parse_update(update("cyrillic"))
    assert item is not None
    assert item["customer"] == {"handle": "tg:2222222", "name": "Ирина Петрова"}
    assert item["body"] == "Здравствуйте! Когда привезут заказ 77?"
    assert item["external_id"] == "tg:update:10001" and item["channel"] == "chat"
    assert item["occurred_at"] == "2025-11-20T07:00:00+00:00"
    assert Interaction.model_validate(item).primary_identifier().key == "handle:tg:2222222"


def test_the_docs_sample_update_validates():
    item = parse_update(update("text"))
    assert Interaction.model_validate(item).primary_identifier().key == "handle:tg:1111111"


def test_a_shared_contact_links_the_phone_to_the_same_handle():
    item = parse_update(update("contact"))
    assert item is not None
    assert item["customer"]["handle"] == "tg:2222222" and item["customer"]["phone"] == "79123456789"
    keys = {i.key for i in Interaction.model_validate(item).customer.identifiers()}
    assert keys == {"handle:tg:2222222", "phone:+79123456789"}


def test_someone_elses_contact_is_not_linked_to_the_sender():
    other = json.loads(update("contact"))
    other["message"]["contact"]["user_id"] = 999
    item = parse_update(json.dumps(other).encode())
    assert item is not None and "phone" not in item["customer"]


@pytest.mark.parametrize("name", ["edited", "callback_query", "sticker"])
def test_edits_and_other_updates_are_acknowledged_without_an_interaction(name):
    assert parse_update(update(name)) is None


@pytest.mark.parametrize(("raw", "status"), [(b"{", 400), (b"[]", 422), (b'{"update_id": "x"}', 422)])
def test_a_body_that_is_no_update_is_refused(raw, status):
    with pytest.raises(Refused) as refused:
        parse_update(raw)
    assert refused.value.status == status


FORMS = FormConfig.from_settings('{"callback": {"phone": "tel", "message": "comment"}}', "website")


def test_an_urlencoded_form_maps_the_default_fields_and_keeps_them_all():
    raw = "name=Ирина+Петрова&phone=8+(912)+345-67-89&email=&message=Перезвоните&utm_source=ya".encode()
    item = parse_form(raw, URLENCODED, "contact", FORMS, NOW)
    assert item["customer"] == {"phone": "8 (912) 345-67-89", "email": None, "name": "Ирина Петрова"}
    assert item["body"] == "Перезвоните"
    assert item["details"]["fields"]["utm_source"] == "ya" and item["details"]["form_id"] == "contact"
    Interaction.model_validate(item)


def test_a_form_with_its_own_field_names_uses_its_mapping():
    item = parse_form(b"tel=%2B79123456789&comment=hi", URLENCODED, "callback", FORMS, NOW)
    assert item["customer"]["phone"] == "+79123456789" and item["body"] == "hi"


def test_an_identical_retry_has_the_same_external_id_and_a_changed_one_does_not():
    raw = b"phone=89123456789&message=a"
    first = parse_form(raw, URLENCODED, "contact", FORMS, NOW)
    retry = parse_form(raw, URLENCODED, "contact", FORMS, datetime(2027, 1, 1, tzinfo=UTC))
    other = parse_form(b"phone=89123456789&message=b", URLENCODED, "contact", FORMS, NOW)
    assert first["external_id"] == retry["external_id"] != other["external_id"]


def test_multipart_fields_are_read_and_files_only_listed():
    body = ("--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nИван\r\n"
            "--XyZ\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nivan@example.ru\r\n"
            "--XyZ\r\nContent-Disposition: form-data; name=\"cv\"; filename=\"резюме.pdf\"\r\n"
            "Content-Type: application/pdf\r\n\r\n%PDF-1.4 data\r\n--XyZ--\r\n").encode()
    item = parse_form(body, "multipart/form-data; boundary=XyZ", "jobs", FORMS, NOW)
    assert item["customer"] == {"phone": None, "email": "ivan@example.ru", "name": "Иван"}
    assert item["details"]["files"] == [
        {"field": "cv", "filename": "резюме.pdf", "content_type": "application/pdf", "size": 13}]
    assert "cv" not in item["details"]["fields"]


def test_a_filled_honeypot_is_a_bot():
    with pytest.raises(Honeypot):
        parse_form(b"phone=89123456789&website=http://spam.example", URLENCODED, "contact", FORMS, NOW)


@pytest.mark.parametrize(("raw", "content_type", "status"), [
    (b"name=nobody", URLENCODED, 422), (b"{}", "application/json", 415),
    (b"\xff\xfe", URLENCODED, 400), (b"x", "multipart/form-data", 400)])
def test_forms_without_contact_or_in_other_formats_are_refused(raw, content_type, status):
    with pytest.raises(Refused) as refused:
        parse_form(raw, content_type, "contact", FORMS, NOW)
    assert refused.value.status == status


def test_the_rate_limit_admits_n_per_minute_per_address():
    now = [0.0]
    limit = RateLimit(2, clock=lambda: now[0])
    assert [limit.allow("1.2.3.4") for _ in range(3)] == [True, True, False]
    assert limit.allow("5.6.7.8")
    now[0] = 60.0
    assert limit.allow("1.2.3.4")
