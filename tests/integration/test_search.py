"""Search on the real PostgreSQL read models: phones in any spelling, emails, names in both scripts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import psycopg
import pytest

from events.catalog import CustomerRegistered, IdentifierLinked, InteractionAttributed
from events.envelope import wrap
from events.interaction import Interaction
from events.names import latin
from kartoteka import db
from services.projections.timeline.apply import rows_for
from services.projections.timeline.store import TimelineStore
from services.projections.tracking import Positions

pytestmark = pytest.mark.integration
AT = datetime(2026, 5, 1, 10, tzinfo=UTC)
PEOPLE = {
    "Ирина Петрова": ("+79123456789", "irina@mail.ru"),
    "Ольга Кузнецова": ("+79161112233", "olga@yandex.ru"),
    "Фёдор Смирнов": ("+79035554433", None),
    "Анна Римская-Корсакова": ("+79267778899", None),
    "Pyotr Ivanov": ("+79998887766", "pyotr@gmail.com"),
}


def _event(payload, sequence: int):
    return wrap(payload, id=str(uuid.uuid4()), source="test", time=AT, sequence=sequence), payload


@pytest.fixture
def customers(settings) -> dict[str, str]:
    store = db.datastore(settings.dsn)
    events, ids = [], {}
    for n, (name, (phone, email)) in enumerate(PEOPLE.items()):
        cid, iid = str(uuid.uuid4()), str(uuid.uuid4())
        ids[name] = cid
        events.append(_event(CustomerRegistered(customer_id=cid, first_interaction_id=iid, at=AT), n * 10))
        for kind, value in (("phone", phone), ("email", email)):
            if value:
                events.append(_event(IdentifierLinked(customer_id=cid, kind=kind, value=value,
                                                      interaction_id=iid, channel="call", at=AT), n * 10 + 1))
        interaction = Interaction.model_validate({
            "channel": "call", "external_id": iid, "occurred_at": AT.isoformat(), "direction": "inbound",
            "customer": {"phone": phone, "name": name}})
        events.append(_event(InteractionAttributed(customer_id=cid, interaction_id=iid, interaction=interaction),
                             n * 10 + 2))
    TimelineStore(store, Positions(store)).write(rows_for(events), [])
    store.close()
    return ids


@pytest.mark.parametrize(("query", "expected"), [
    ("8 912 345-67-89", "Ирина Петрова"),
    ("+7 (912) 345 67 89", "Ирина Петрова"),
    ("9123456789", "Ирина Петрова"),
    ("IRINA@MAIL.RU", "Ирина Петрова"),
    ("Ирина Петрова", "Ирина Петрова"),
    ("петрова ирина", "Ирина Петрова"),
    ("Ирна Петрва", "Ирина Петрова"),
    ("Irina Petrova", "Ирина Петрова"),
    ("Федор Смирнов", "Фёдор Смирнов"),
    ("фёдор", "Фёдор Смирнов"),
    ("Корсакова", "Анна Римская-Корсакова"),
    ("Римская Корсакова Анна", "Анна Римская-Корсакова"),
    ("Пётр Иванов", "Pyotr Ivanov"),
    ("Kuznetsova Olga", "Ольга Кузнецова"),
])
def test_search_finds_the_customer_first(api, auth, customers, query: str, expected: str) -> None:
    response = api.get("/v1/customers", params={"q": query}, headers=auth("agent"))
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert items, f"nothing found for {query!r}"
    assert items[0]["id"] == customers[expected], [i["name"] for i in items]


@pytest.mark.parametrize("query", ["8 800 000-00-01", "nobody@mail.ru", "Зинаида Шапокляк"])
def test_search_for_someone_unknown_finds_nobody(api, auth, customers, query: str) -> None:
    response = api.get("/v1/customers", params={"q": query}, headers=auth("agent"))
    assert response.status_code == 200
    assert response.json()["items"] == []


def test_search_results_carry_phones_in_e164_and_emails(api, auth, customers) -> None:
    [item] = api.get("/v1/customers", params={"q": "89123456789"}, headers=auth("agent")).json()["items"]
    assert item["phones"] == ["+79123456789"] and item["emails"] == ["irina@mail.ru"]
    assert item["name"] == "Ирина Петрова" and item["score"] == 1.0


def _insert(settings, *names: str) -> list[str]:
    """Customers written straight to the read model, as a bulk load would (the names follow)."""
    ids = sorted(str(uuid.uuid4()) for _ in names)
    with psycopg.connect(settings.dsn) as conn:
        conn.cursor().executemany(
            "INSERT INTO customers (id, name, search_latin, registered_at, name_at) VALUES (%s, %s, %s, %s, %s)",
            [(cid, name, latin(name), AT, AT) for cid, name in zip(ids, names, strict=True)])
    return ids


def test_namesakes_beyond_the_limit_come_by_id_after_the_exact_name(api, auth, settings) -> None:
    namesakes = _insert(settings, *["Зоя Котова"] * 30)
    [near] = _insert(settings, "Зоя Котовская")
    items = api.get("/v1/customers", params={"q": "зоя котова", "limit": 10}, headers=auth("agent")).json()["items"]
    assert [i["id"] for i in items] == namesakes[:10]
    items = api.get("/v1/customers", params={"q": "Зоя Котова"}, headers=auth("agent")).json()["items"]
    assert [i["id"] for i in items] == [*namesakes, near]


def test_a_renamed_customer_is_found_by_the_new_name_only(api, auth, settings) -> None:
    [cid] = _insert(settings, "Глеб Усов")
    with psycopg.connect(settings.dsn) as conn:
        conn.execute("UPDATE customers SET name = %s, search_latin = %s WHERE id = %s",
                     ("Ефросинья Ширяева", latin("Ефросинья Ширяева"), cid))
    found = api.get("/v1/customers", params={"q": "Ефросиня Ширяева"}, headers=auth("agent")).json()["items"]
    assert [i["id"] for i in found] == [cid]
    assert api.get("/v1/customers", params={"q": "Глеб Усов"}, headers=auth("agent")).json()["items"] == []


def test_a_merged_customer_is_answered_once_by_its_root(api, auth, settings) -> None:
    root, merged = _insert(settings, "Тимур Ахметов", "Timur Akhmetov")
    with psycopg.connect(settings.dsn) as conn:
        conn.execute("UPDATE customers SET root_id = %s, merged_into = %s WHERE id = %s", (root, root, merged))
    for query in ("Тимур Ахметов", "Timur Akhmetov", "Ахметов"):
        items = api.get("/v1/customers", params={"q": query}, headers=auth("agent")).json()["items"]
        assert [i["id"] for i in items] == [root], query


def test_members_of_one_root_sharing_a_name_leave_room_for_other_namesakes(api, auth, settings) -> None:
    # Each name's customers are taken by root id, a few at a time: members merged into one root
    # must count once, or they would crowd the other namesakes out of the page.
    ids = _insert(settings, *["Фаина Рощина"] * 6)
    root, members, others = ids[0], ids[1:4], ids[4:]
    with psycopg.connect(settings.dsn) as conn:
        conn.cursor().executemany("UPDATE customers SET root_id = %s, merged_into = %s WHERE id = %s",
                                  [(root, root, m) for m in members])
    items = api.get("/v1/customers", params={"q": "Фаина Рощина", "limit": 3}, headers=auth("agent")).json()["items"]
    assert [i["id"] for i in items] == [root, *others]
