"""Possible duplicates on the real stack: proposed by the finder, reviewed, merged or rejected."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from tests.support.data import interaction, unique_phone
from tests.support.work import access_actions, listed
from tests.support.workers import running, wait_until

pytestmark = pytest.mark.integration
WORKERS = ("resolver", "relay", "timeline", "duplicates", "audit")


def _one_digit_off(phone: str) -> str:
    digits = phone.replace(" ", "").replace("-", "")
    last = str((int(digits[-1]) + 1) % 10)
    return digits[:-1] + last


def _post(ingest, auth, item: dict[str, Any]) -> str:
    answer = ingest.post("/v1/interactions", json=item, headers=auth("channel", "web"))
    assert answer.status_code == 202, answer.text
    return answer.json()["id"]


def _customer(dsn: str, interaction_id: str) -> str | None:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT customer_id::text FROM identity_attributions WHERE interaction_id = %s",
                           (interaction_id,)).fetchone()
    return row[0] if row else None


def _pair(ingest, auth, settings, first: str, second: str, born: str, address: str) -> tuple[str, str]:
    """One person twice: a call, then a web form with a mistyped number and the name reversed."""
    phone = unique_phone()
    a = _post(ingest, auth, interaction(channel="call", customer={"phone": phone, "name": f"{first} {second}"},
                                        details={"birth_date": born, "address": address}))
    b = _post(ingest, auth, interaction(channel="web_form", customer={
        "phone": _one_digit_off(phone), "name": f"{second} {first}"},
        details={"birth_date": born, "address": address.upper()}))
    ids = wait_until(lambda: (x, y) if (x := _customer(settings.dsn, a)) and (y := _customer(settings.dsn, b))
                     else None, message="both attributed")
    assert ids[0] != ids[1], "a mistyped number is not an identical identifier"
    return ids


def card_until(api, auth, customer_id: str, check, what: str) -> dict[str, Any]:
    """The card once ``check`` holds; an answer other than 200 (a busy broker's 503) is read again."""

    def read() -> dict[str, Any] | None:
        answer = api.get(f"/v1/customers/{customer_id}", headers=auth("agent", "emp-poller"))
        return answer.json() if answer.status_code == 200 and check(answer.json()) else None

    return wait_until(read, message=what)


def _proposal(api, auth, pair: tuple[str, str], status: str = "open") -> dict[str, Any]:
    items = listed(api, auth, "/v1/duplicates", {"status": status},
                   lambda got: any(set(i["customer_ids"]) == set(pair) for i in got), f"{status} proposal")
    return next(i for i in items if set(i["customer_ids"]) == set(pair))


def test_a_mistyped_number_with_the_same_birth_date_is_proposed_accepted_and_merged(settings, ingest, api, auth):
    with running(settings, WORKERS):
        pair = _pair(ingest, auth, settings, "Ирина", "Петрова", "1981-04-12", "г. Тверь, ул. Мира, д. 5")
        proposal = _proposal(api, auth, pair)
        assert proposal["score"] >= settings.duplicates_min_score
        weights = {e["attribute"]: e["weight"] for e in proposal["evidence"]}
        assert weights["birth_date"] > 0 and weights["name"] > 0 and weights["phone"] > 0
        assert api.get("/v1/duplicates", headers=auth("agent")).status_code == 403

        answer = api.post(f"/v1/duplicates/{proposal['id']}/accept", headers=auth("supervisor", "sup-7"))
        assert answer.status_code == 202, answer.text
        younger = max(pair, key=lambda c: c)  # whichever was merged away answers with the survivor
        card = card_until(api, auth, pair[1], lambda c: c["merged_into"] is not None or len(c["members"]) == 2,
                          "the pair merged")
        assert set(card["members"]) == set(pair) and younger in card["members"]
        merged_in = [h for h in card["history"] if h["kind"] == "merged_in"]
        assert merged_in and merged_in[0]["evidence"]["keys"] == [f"proposal:{proposal['id']}"]
        accepted = _proposal(api, auth, pair, "accepted")
        assert accepted["decided_by"] == "sup-7"
        again = api.post(f"/v1/duplicates/{proposal['id']}/accept", headers=auth("supervisor", "sup-7"))
        assert again.status_code == 409
        actions = access_actions(api, auth, "sup-7", {"duplicate.accept"})
        assert set(next(r for r in actions if r["action"] == "duplicate.accept")["customer_ids"]) == set(pair)


def test_a_rejected_pair_stays_rejected_when_the_customers_change_again(settings, ingest, api, auth):
    with running(settings, WORKERS):
        pair = _pair(ingest, auth, settings, "Олег", "Сидоров", "1975-09-30", "Казань, ул. Лесная, д. 12")
        proposal = _proposal(api, auth, pair)
        assert api.post(f"/v1/duplicates/{proposal['id']}/reject", json={},
                        headers=auth("supervisor", "sup-8")).status_code == 422
        answer = api.post(f"/v1/duplicates/{proposal['id']}/reject", json={"reason": "twins, two people"},
                          headers=auth("supervisor", "sup-8"))
        assert answer.status_code == 202, answer.text
        rejected = _proposal(api, auth, pair, "rejected")
        assert rejected["reason"] == "twins, two people"
        # New contact from one of them rescores the pair; the decision holds.
        with psycopg.connect(settings.dsn) as conn:
            phone = conn.execute("SELECT value FROM match_attributes WHERE customer_id = %s AND attribute = 'phone'",
                                 (pair[0],)).fetchone()[0]
        later = _post(ingest, auth, interaction(channel="sms", customer={"phone": phone, "name": "Олег Сидоров"}))
        wait_until(lambda: _customer(settings.dsn, later), message="the new contact attributed")
        wait_until(lambda: _observed(settings.dsn, later), message="the finder saw it")
        open_items = api.get("/v1/duplicates", headers=auth("supervisor", "sup-8")).json()["items"]
        assert proposal["id"] not in {i["id"] for i in open_items}
        assert _proposal(api, auth, pair, "rejected")["id"] == proposal["id"]
        access_actions(api, auth, "sup-8", {"duplicate.reject", "duplicate.list"})


def _observed(dsn: str, source: str) -> bool:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT 1 FROM match_attributes WHERE source = %s", (source,)).fetchone() is not None


def test_strangers_are_not_proposed_and_an_unknown_proposal_is_404(settings, ingest, api, auth):
    with running(settings, WORKERS):
        a = _post(ingest, auth, interaction(customer={"phone": unique_phone(), "name": "Анна Смирнова"},
                                            details={"birth_date": "1990-01-01"}))
        b = _post(ingest, auth, interaction(customer={"phone": unique_phone(), "name": "Борис Козлов"},
                                            details={"birth_date": "1960-06-06"}))
        wait_until(lambda: _observed(settings.dsn, a) and _observed(settings.dsn, b), message="both observed")
        ids = {_customer(settings.dsn, a), _customer(settings.dsn, b)}
        with psycopg.connect(settings.dsn) as conn:
            found = conn.execute("SELECT count(*) FROM duplicate_proposals WHERE customer_a = ANY(%s::uuid[])"
                                 " OR customer_b = ANY(%s::uuid[])", (list(ids), list(ids))).fetchone()[0]
        assert found == 0
        missing = api.post("/v1/duplicates/00000000-0000-0000-0000-000000000000/accept",
                           headers=auth("admin", "adm-1"))
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_a_family_landline_with_different_birth_dates_is_held_as_a_proposal_not_merged(settings, ingest, api, auth):
    landline, mobile = unique_phone(), unique_phone()
    email = f"oleg{mobile[-6:].replace('-', '')}@mail.ru"
    with running(settings, WORKERS):
        mother = _post(ingest, auth, interaction(customer={"phone": landline, "name": "Галина Орлова"},
                                                 details={"birth_date": "1955-03-01"}))
        son = _post(ingest, auth, interaction(customer={"phone": mobile, "email": email, "name": "Олег Орлов"},
                                              details={"birth_date": "1984-11-20"}))
        pair = wait_until(lambda: (x, y) if (x := _customer(settings.dsn, mother)) and (
            y := _customer(settings.dsn, son)) else None, message="both attributed")
        # The son's mailbox and the family landline on one form: identical identifiers of both.
        form = _post(ingest, auth, interaction(channel="web_form", customer={
            "phone": landline, "email": email, "name": "Олег Орлов"}))
        wait_until(lambda: _customer(settings.dsn, form), message="the form attributed")
        held = _proposal(api, auth, pair)
        [reason] = [e["values"][1] for e in held["evidence"] if e["attribute"] == "held"]
        born = {pair[0]: "1955-03-01", pair[1]: "1984-11-20"}
        a, b = held["customer_ids"]
        assert reason == f"same phone, but birth dates differ: {born[a]} vs {born[b]}", "in words, each under its own"
        card = card_until(api, auth, pair[0], lambda c: True, "the mother's card")
        assert set(card["members"]) == {pair[0]}, "held, not merged"


def test_the_card_shows_matching_attributes_with_where_each_was_seen(settings, ingest, api, auth):
    with running(settings, WORKERS):
        first = _post(ingest, auth, interaction(
            channel="web_form", customer={"phone": unique_phone(), "name": "Анна Белова"},
            details={"birth_date": "1979-05-06", "address": "Самара, ул. Мира, 3"}))
        wait_until(lambda: _observed(settings.dsn, first), message="observed")
        card = card_until(api, auth, _customer(settings.dsn, first), lambda c: bool(c["attributes"]), "attributes")
    seen = {(a["attribute"], a["value"]): a for a in card["attributes"]}
    assert seen[("birth_date", "1979-05-06")]["channel"] == "web_form"
    assert seen[("address", "Самара, ул. Мира, 3")]["source"] == first
    assert ("name", "Анна Белова") in seen


def test_above_a_configured_auto_merge_score_the_pair_merges_through_the_outbox(settings, ingest, api, auth):
    auto = settings.model_copy(update={"duplicates_auto_merge_score": 0.9999})
    with running(auto, ("resolver", "relay", "timeline", "duplicates")):
        pair = _pair(ingest, auth, settings, "Марина", "Круглова", "1969-12-01", "Тверь, ул. Садовая, д. 7, кв. 3")
        card = card_until(api, auth, pair[0], lambda c: len(c["members"]) == 2, "merged without review")
        assert set(card["members"]) == set(pair)
        accepted = _proposal(api, auth, pair, "accepted")
        assert accepted["decided_by"] == "kartoteka/auto-merge" and accepted["score"] >= 0.9999


def test_without_an_auto_merge_score_nothing_merges_unreviewed(settings, ingest, api, auth):
    assert settings.duplicates_auto_merge_score is None
    with running(settings, WORKERS):
        pair = _pair(ingest, auth, settings, "Марина", "Круглова", "1969-12-01", "Тверь, ул. Садовая, д. 7, кв. 3")
        assert _proposal(api, auth, pair)["score"] >= 0.9999
        card = card_until(api, auth, pair[0], lambda c: True, "the card")
        assert card["members"] == [pair[0]]
