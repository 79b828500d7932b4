"""One real person, one card: merges across partitions, concurrent creation, split, replay."""

from __future__ import annotations

from datetime import datetime

import psycopg
import pytest

from events import sealing
from events.ids import customer_id_for
from kartoteka.keystore import KeyRing, master_key
from tests.support.data import interaction, unique_phone
from tests.support.ids import SECRET
from tests.support.workers import running, wait_until

pytestmark = pytest.mark.integration
PIPELINE = ("resolver", "relay", "timeline")


def _post(ingest, auth, *items) -> list[str]:
    ids = []
    for item in items:
        response = ingest.post("/v1/interactions", json=item, headers=auth("channel", "web"))
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])
    return ids


def _card(api, auth, customer_id: str) -> dict:
    response = api.get(f"/v1/customers/{customer_id}", headers=auth("agent"))
    assert response.status_code == 200, response.text
    return response.json()


def _customer_of(dsn: str, interaction_id: str) -> str | None:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT coalesce(c.root_id, c.id)::text FROM timeline t JOIN customers c"
                           " ON c.id = t.customer_id WHERE t.interaction_id = %s", (interaction_id,)).fetchone()
    return row[0] if row else None


def _timeline_ids(api, auth, customer_id: str) -> set[str]:
    page = api.get(f"/v1/customers/{customer_id}/timeline", params={"limit": 500}, headers=auth("agent"))
    assert page.status_code == 200, page.text
    return {i["id"] for i in page.json()["items"]}


def test_a_web_form_with_one_customers_phone_and_anothers_email_merges_them(settings, ingest, api, auth):
    phone, email = unique_phone(), f"irina.{unique_phone()[-4:]}@example.ru"
    call, mail, form = (
        interaction(channel="call", customer={"phone": phone, "name": "Ирина Петрова"},
                    occurred_at="2026-10-01T10:00:00+03:00"),
        interaction(channel="email", customer={"email": email}, occurred_at="2026-10-02T10:00:00+03:00"),
        interaction(channel="web_form", customer={"phone": phone.replace(" ", ""), "email": email.upper()},
                    occurred_at="2026-10-03T10:00:00+03:00"),
    )
    # Different primary identifiers: the three land on different partitions of interactions.v1.
    call_id, mail_id = _post(ingest, auth, call, mail)
    with running(settings, PIPELINE):
        wait_until(lambda: _customer_of(settings.dsn, call_id) and _customer_of(settings.dsn, mail_id),
                   message="two customers first")
        assert _customer_of(settings.dsn, call_id) != _customer_of(settings.dsn, mail_id)
        [form_id] = _post(ingest, auth, form)
        wait_until(lambda: len({_customer_of(settings.dsn, i) for i in (call_id, mail_id, form_id)}) == 1
                   and _customer_of(settings.dsn, form_id) is not None, message="one customer for all three")
    survivor = _customer_of(settings.dsn, call_id)
    card = _card(api, auth, survivor)
    assert card["merged_into"] is None and card["name"] == "Ирина Петрова"
    assert {i["kind"] for i in card["identifiers"]} == {"phone", "email"}
    assert card["stats"]["total"] == 3
    assert _timeline_ids(api, auth, survivor) == {call_id, mail_id, form_id}
    merged_away = [m for m in card["members"] if m != survivor]
    assert len(merged_away) == 1, "the emailer was merged into the older caller"
    old = _card(api, auth, merged_away[0])
    assert old["id"] == survivor and old["merged_into"] == survivor
    assert [h["kind"] for h in card["history"]].count("merged_in") == 1
    assert next(h for h in card["history"] if h["kind"] == "merged_in")["evidence"]["interaction_id"] == form_id


def test_a_placeholder_number_never_joins_two_people(settings, ingest, api, auth):
    a = interaction(customer={"phone": "8 (000) 000-00-00", "email": f"a{unique_phone()[-6:]}@mail.ru"})
    b = interaction(customer={"phone": "8 (000) 000-00-00", "email": f"b{unique_phone()[-6:]}@mail.ru"})
    a_id, b_id = _post(ingest, auth, a, b)
    with running(settings, PIPELINE):
        wait_until(lambda: _customer_of(settings.dsn, a_id) and _customer_of(settings.dsn, b_id),
                   message="both attributed")
    assert _customer_of(settings.dsn, a_id) != _customer_of(settings.dsn, b_id)


def test_split_moves_identifiers_and_their_interactions_to_a_new_customer(settings, ingest, api, auth):
    phone, email = unique_phone(), f"shared.{unique_phone()[-6:]}@mail.ru"
    call = interaction(channel="call", customer={"phone": phone}, occurred_at="2026-10-01T10:00:00+03:00")
    form = interaction(channel="web_form", customer={"phone": phone, "email": email},
                       occurred_at="2026-10-02T10:00:00+03:00")
    mail = interaction(channel="email", customer={"email": email}, occurred_at="2026-10-03T10:00:00+03:00")
    call_id, form_id, mail_id = _post(ingest, auth, call, form, mail)
    with running(settings, PIPELINE):
        wait_until(lambda: _customer_of(settings.dsn, mail_id), message="attributed")
        customer = _customer_of(settings.dsn, call_id)
        refused = api.post(f"/v1/customers/{customer}/split", headers=auth("agent"),
                           json={"identifiers": [{"kind": "email", "value": email}]})
        assert refused.status_code == 403
        answer = api.post(f"/v1/customers/{customer}/split", headers=auth("supervisor", "sup-1"),
                          json={"identifiers": [{"kind": "email", "value": email.upper()}],
                                "reason": "two people share the form"})
        assert answer.status_code == 202, answer.text
        target = answer.json()["target_customer_id"]
        wait_until(lambda: _customer_of(settings.dsn, mail_id) == target, message="mail moved")
        later = interaction(channel="email", customer={"email": email}, occurred_at="2026-10-04T10:00:00+03:00")
        [later_id] = _post(ingest, auth, later)
        wait_until(lambda: _customer_of(settings.dsn, later_id) == target, message="new mail goes to target")
    source_card, target_card = _card(api, auth, customer), _card(api, auth, target)
    assert {i["kind"] for i in source_card["identifiers"]} == {"phone"}
    assert [(i["kind"], i["value"]) for i in target_card["identifiers"]] == [("email", email.lower())]
    # The form carried both identifiers: it is the evidence of the old link and stays put.
    assert _timeline_ids(api, auth, customer) == {call_id, form_id}
    assert _timeline_ids(api, auth, target) == {mail_id, later_id}
    split = next(h for h in source_card["history"] if h["kind"] == "split_off")
    assert split["evidence"]["requested_by"] == "sup-1" and split["evidence"]["interaction_ids"] == [mail_id]
    assert any(h["kind"] == "split_from" for h in target_card["history"])


def _read_models(dsn: str) -> dict[str, list[tuple]]:
    queries = {
        "customers": "SELECT id::text, name, merged_into::text, coalesce(root_id, id)::text FROM customers ORDER BY 1",
        "identifiers": "SELECT customer_id::text, kind, value, first_seen, last_seen FROM customer_identifiers"
                       " ORDER BY 1, 2, 3",
        "timeline": "SELECT interaction_id::text, customer_id::text, seq FROM timeline ORDER BY 1",
        "history": "SELECT customer_id::text, kind, other_ids::text[] FROM customer_history ORDER BY 1, 2",
    }
    with psycopg.connect(dsn) as conn:
        return {name: conn.execute(q).fetchall() for name, q in queries.items()}


def test_replaying_the_identity_log_from_zero_rebuilds_the_same_cards_splits_included(
    settings, ingest, api, auth
):
    from services.projections.rebuild import rebuild

    phone, email = unique_phone(), f"replay.{unique_phone()[-6:]}@mail.ru"
    first = [interaction(customer={"phone": phone, "name": "Пётр Иванов"}),
             interaction(channel="email", customer={"email": email})]
    first_ids = _post(ingest, auth, *first)
    with running(settings, PIPELINE):
        wait_until(lambda: all(_customer_of(settings.dsn, i) for i in first_ids), message="attributed")
        [form_id] = _post(ingest, auth, interaction(channel="web_form", customer={"phone": phone, "email": email}))
        wait_until(lambda: _customer_of(settings.dsn, form_id), message="merged")
        root = _customer_of(settings.dsn, form_id)
        answer = api.post(f"/v1/customers/{root}/split", headers=auth("admin", "adm"),
                          json={"identifiers": [{"kind": "email", "value": email}]})
        assert answer.status_code == 202, answer.text
        target = answer.json()["target_customer_id"]
        wait_until(lambda: _customer_of(settings.dsn, first_ids[1]) == target, message="split applied")
        wait_until(lambda: any(r[1] == "split_from" for r in _read_models(settings.dsn)["history"]),
                   message="history projected")
    before = _read_models(settings.dsn)
    assert before["timeline"] and before["history"]
    report = rebuild(settings)
    assert "timeline" in report.rebuilt and report.records > 0
    assert _read_models(settings.dsn) == before


def test_two_resolvers_creating_a_customer_for_one_identifier_at_once_end_with_one(settings, infra):
    from datetime import UTC, datetime

    from kartoteka import kafka
    from services.ingest.accept import Accepted, accept

    pairs = []
    for n in range(40):
        phone = unique_phone()
        # Keyed by different identifiers, so the two halves of a pair sit on different partitions.
        pairs.append((interaction(customer={"phone": phone}),
                      interaction(channel="email", customer={"email": f"c{n}.{phone[-5:]}@mail.ru", "phone": phone})))
    producer = kafka.producer(settings)
    ids = []
    for pair in pairs:
        for item in pair:
            accepted = accept(item, SECRET)
            assert isinstance(accepted, Accepted)
            ids.append(accepted.id)
            producer.send(settings.topic("interactions.v1"), key=accepted.key, value=accepted.record(datetime.now(UTC)))
    producer.flush()
    producer.close()
    with running(settings, ("resolver", "resolver", "relay", "timeline")):
        wait_until(lambda: all(_customer_of(settings.dsn, i) for i in ids), timeout_s=60, message="all attributed")
    for index in range(0, len(ids), 2):
        assert _customer_of(settings.dsn, ids[index]) == _customer_of(settings.dsn, ids[index + 1])
    with psycopg.connect(settings.dsn) as conn:
        versions = conn.execute("SELECT count(*) FROM identity_events WHERE originator_id = ANY(%s::uuid[])"
                                " AND originator_version = 1", (ids,)).fetchone()[0]
        roots = conn.execute("SELECT count(DISTINCT coalesce(root_id, id)) FROM customers").fetchone()[0]
    assert versions == len(ids)
    assert roots == len(pairs)


def test_times_with_offsets_postgres_cannot_spell_register_and_merge_customers(settings, ingest, auth):
    # RFC 3339 (and so ingest) allows offsets up to 23:59; PostgreSQL reads at most 15:59 from
    # text, so the resolver's writes must carry times in binary (an instant), never as text.
    phone, email = unique_phone(), f"offset.{unique_phone()[-6:]}@mail.ru"

    def attributed(ids: list[str]) -> bool:
        with psycopg.connect(settings.dsn) as conn:
            return conn.execute("SELECT count(*) FROM identity_attributions WHERE interaction_id"
                                " = ANY(%s::uuid[])", (ids,)).fetchone()[0] == len(ids)

    def merged(call: str, mail: str) -> bool:
        with psycopg.connect(settings.dsn) as conn:
            return conn.execute("SELECT count(*) FROM identity_customers WHERE merged_into IS NOT NULL"
                                " AND customer_id = ANY(%s::uuid[])",
                                ([customer_id_for(call), customer_id_for(mail)],)).fetchone()[0] == 1

    with running(settings, ("resolver",)):
        # The call and the email first, each its own customer; only then the form that links
        # them (on other partitions it could be resolved first and leave nothing to merge).
        call, mail = _post(
            ingest, auth,
            interaction(customer={"phone": phone}, occurred_at="2026-10-01T10:00:00+21:07"),
            interaction(channel="email", customer={"email": email}, occurred_at="2026-10-02T10:00:00-18:30"),
        )
        wait_until(lambda: attributed([call, mail]), message="call and email registered")
        [form] = _post(ingest, auth, interaction(channel="web_form", customer={"phone": phone, "email": email},
                                                 occurred_at="2026-10-03T10:00:00+23:59"))
        wait_until(lambda: attributed([call, mail, form]) and merged(call, mail),
                   message="registered, attributed and merged")
    with psycopg.connect(settings.dsn) as conn:
        registered = conn.execute("SELECT registered_at FROM identity_customers WHERE customer_id = %s",
                                  (customer_id_for(call),)).fetchone()[0]
        times = conn.execute("SELECT merge_times FROM identity_index WHERE key = %s",
                             (sealing.token(KeyRing(master_key(settings)).pepper, f"email:{email}"),)).fetchone()[0]
    assert registered == datetime.fromisoformat("2026-10-01T10:00:00+21:07")
    assert times == [datetime.fromisoformat("2026-10-03T10:00:00+23:59")]


def test_a_merge_accepted_for_a_member_split_off_earlier_lands_on_the_customer_it_now_belongs_to(
        settings, ingest, api, auth):
    from datetime import UTC, datetime

    from events.duplicates import auto_merge_record
    from tests.support.kafka_tools import produce

    phone, email, other = unique_phone(), f"member.{unique_phone()[-6:]}@mail.ru", unique_phone()
    a_id, b_id, c_id = _post(ingest, auth, interaction(customer={"phone": phone, "name": "Анна Орлова"}),
                             interaction(channel="email", customer={"email": email, "name": "Анна Орлова"}),
                             interaction(channel="call", customer={"phone": other, "name": "Анна Орлова"}))
    with running(settings, PIPELINE):
        wait_until(lambda: all(_customer_of(settings.dsn, i) for i in (a_id, b_id, c_id)), message="attributed")
        a, b, c = (_customer_of(settings.dsn, i) for i in (a_id, b_id, c_id))
        [form_id] = _post(ingest, auth, interaction(channel="web_form", customer={"phone": phone, "email": email}))
        wait_until(lambda: _customer_of(settings.dsn, b_id) == a, message="b merged into a")
        answer = api.post(f"/v1/customers/{a}/split", headers=auth("supervisor", "sup-2"),
                          json={"identifiers": [{"kind": "email", "value": email}]})
        assert answer.status_code == 202, answer.text
        target = answer.json()["target_customer_id"]
        wait_until(lambda: _card(api, auth, b)["id"] == target, message="b went with its email")
        # A proposal scored while b was still a customer of its own names b: the merge follows b.
        record = auto_merge_record(b, c, 0.99, datetime.now(UTC))
        produce(settings, settings.topic(record.topic), [(record.key, record.value, list(record.headers))])
        wait_until(lambda: set(_card(api, auth, c)["members"]) == {c, target, b}, message="merged with b's part")
    assert _card(api, auth, a)["members"] == [a]
    assert _timeline_ids(api, auth, a) == {a_id, form_id}
    assert _timeline_ids(api, auth, c) == {b_id, c_id}
