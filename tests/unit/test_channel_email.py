"""Raw mail -> canonical interaction, on real samples (tests/data/email) and on oddities."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from events.interaction import Interaction
from services.ingest.channels.common import Refused
from services.ingest.channels.email import MailConfig, parse_email
from services.ingest.channels.html_text import html_to_text

DATA = Path(__file__).parent.parent / "data" / "email"
OURS = MailConfig.from_setting("shop.example, @corp.example")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def parsed(name: str) -> dict:
    return parse_email((DATA / name).read_bytes(), OURS, NOW)


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("*.eml")))
def test_every_sample_becomes_a_valid_interaction(name):
    item = parsed(name)
    interaction = Interaction.model_validate(item)
    assert interaction.channel == "email" and interaction.customer.email
    assert item["details"]["thread_id"]


def test_windows_1251_quoted_printable_body_and_encoded_display_name_are_decoded():
    item = parsed("git_list_windows1251_qp.eml")
    assert item["customer"] == {"email": "kes@reg.ru", "name": "Коньков Евгений"}
    assert "С уважением,\n Коньков Евгений" in item["body"]
    assert "Регистратор доменных имен REG.RU" in item["body"]
    assert item["external_id"] == "6110218480.20120904152542@reg.ru"
    assert item["occurred_at"] == "2012-09-04T15:25:42+04:00"
    assert item["direction"] == "inbound"


def test_koi8r_headers_folded_over_two_encoded_words_and_an_8bit_body():
    item = parsed("koi8r_8bit_headers_rfc2047.eml")
    assert item["subject"] == "Используйте Gmail на сотовом телефоне"
    assert item["customer"]["name"] == "Коллектив Gmail"
    assert item["body"].startswith("Здравствуйте!\nПрошу перезвонить по поводу заказа N 1042")


def test_html_only_mail_reads_as_text_without_tags_scripts_or_styles():
    item = parsed("windows1251_html_only_base64.eml")
    assert item["subject"] == "Возврат товара"
    assert item["customer"] == {"email": "ivan.petrov@example.ru", "name": "Иван Петров"}
    body = item["body"]
    assert "Добрый день!" in body and "Хочу вернуть товар «Чайник»." in body
    assert "<" not in body and "alert" not in body and "color" not in body


def test_a_reply_carries_its_thread_root_and_references():
    item = parsed("git_list_windows1251_reply.eml")
    details = item["details"]
    assert details["message_id"] == "961742587.20110111174907@mail.ru"
    assert details["in_reply_to"] == "m3lj2rbmq5.fsf@localhost.localdomain"
    assert details["references"] == ["746745466.20110111134101@mail.ru", "m3lj2rbmq5.fsf@localhost.localdomain"]
    assert details["thread_id"] == "746745466.20110111134101@mail.ru"


def test_a_thread_reads_as_one_thread_from_first_mail_to_reply():
    first = parsed("windows1251_html_only_base64.eml")
    reply = parsed("utf8_rfc2231_attachment_reply.eml")
    assert first["details"]["thread_id"] == reply["details"]["thread_id"] == "return-77@example.ru"


def test_mail_from_an_own_domain_is_outbound_to_its_recipient_with_rfc2231_attachment_listed():
    item = parsed("utf8_rfc2231_attachment_reply.eml")
    assert item["direction"] == "outbound"
    assert item["customer"] == {"email": "irina@example.ru", "name": "Ирина Петрова"}
    assert item["body"] == "Счёт во вложении."
    assert item["details"]["attachments"] == [
        {"filename": "Счёт № 77.pdf", "content_type": "application/pdf", "size": 2016}]


def test_attachments_are_listed_never_inlined():
    item = parsed("mikel_attachment_nonascii_filename.eml")
    assert item["details"]["attachments"] == [
        {"filename": "ciële.txt", "content_type": "text/plain", "size": 10}]
    assert "Hi there" not in (item["body"] or "")


def test_a_bounce_is_about_the_recipient_that_failed():
    item = parsed("cpython_msg_16_bounce.eml")
    assert item["customer"]["email"] == "jangel1@cougar.noc.ucla.edu"
    assert item["details"]["bounce"] == {"recipient": "jangel1@cougar.noc.ucla.edu", "action": "failed",
                                         "status": "5.0.0 (recipient reached disk quota)"}
    kinds = [a["content_type"] for a in item["details"]["attachments"]]
    assert kinds == ["message/delivery-status", "message/rfc822"]


def test_plain_text_is_preferred_over_html():
    item = parsed("mikel_alternative_qp.eml")
    assert item["body"] == ("From one solid piece of aluminum comes a MacBook Pro that's thin and light,"
                            " beautifully streamlined, and durable.")


def test_without_message_id_the_external_id_is_a_digest_of_the_raw_message():
    raw = b"From: a@example.ru\nSubject: hi\n\nbody\n"
    first, again = parse_email(raw, OURS, NOW), parse_email(raw, OURS, NOW)
    assert first["external_id"].startswith("sha256:") and first["external_id"] == again["external_id"]
    assert first["occurred_at"] == NOW.isoformat()  # no Date: the time it reached us
    assert parse_email(raw + b"x", OURS, NOW)["external_id"] != first["external_id"]


@pytest.mark.parametrize(("raw", "code"), [
    (b"", "empty_message"),
    (b"just some text without headers", "not_a_message"),
    (b"Subject: no sender\n\nbody\n", "no_sender"),
    (b"From: broken <<<@@@>>>\nSubject: x\n\nbody\n", "no_sender"),
    (b"From: a@shop.example\nTo: b@corp.example\n\nbody\n", "no_customer"),
])
def test_unusable_mail_is_refused_with_a_reason(raw, code):
    with pytest.raises(Refused) as refused:
        parse_email(raw, OURS, NOW)
    assert refused.value.status == 422 and refused.value.code == code


def test_oddities_still_parse_an_unknown_charset_a_bad_date_and_a_broken_base64_part():
    raw = (b"From: =?x-unknown?Q?Foo?= <foo@example.ru>\nDate: yesterday-ish\nMessage-ID: <odd@x>\n"
           b"Content-Type: text/plain; charset=x-unknown\nContent-Transfer-Encoding: base64\n\n"
           b"!!!not base64 at all===\n")
    item = parse_email(raw, OURS, NOW)
    assert item["occurred_at"] == NOW.isoformat() and item["customer"]["email"] == "foo@example.ru"
    Interaction.model_validate(item)


def test_html_to_text_keeps_lines_and_cells_apart():
    assert html_to_text("<p>a</p><p>b&nbsp;c</p><table><tr><td>x</td><td>y</td></tr></table>") == "a\n\nb c\n\nx y"
