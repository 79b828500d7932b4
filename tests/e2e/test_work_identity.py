"""The agent's work meets identity and search: profiles follow merges and splits (and a rebuild
keeps them there), search finds the name an employee set, and a request's first response is
the agent's first reply or status change."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from events.names import latin
from services.projections.rebuild import rebuild
from tests.support.data import interaction, unique_phone
from tests.support.work import WORK_WORKERS, card_until, customer_through_pipeline, listed
from tests.support.workers import running, wait_until

pytestmark = pytest.mark.integration

AGENT = ("agent", "emp-7")


def _ingested(ingest, auth, item: dict) -> str:
    answer = ingest.post("/v1/interactions", json=item, headers=auth("channel", "tel"))
    assert answer.status_code == 202, answer.text
    return answer.json()["id"]


def _patch(api, auth, cid: str, body: dict) -> None:
    answer = api.patch(f"/v1/customers/{cid}", json=body, headers=auth(*AGENT))
    assert answer.status_code == 202, answer.text


def _card(api, auth, cid: str) -> dict:
    answer = api.get(f"/v1/customers/{cid}", headers=auth(*AGENT))
    assert answer.status_code == 200, answer.text
    return answer.json()


def _profile(card: dict) -> tuple:
    return card["id"], card["name"], card["birth_date"], card["company"], card["tags"], card["members"]


def _merged_pair(ingest, api, auth) -> tuple[str, str, str, str]:
    """Customers a (by phone) and b (by email), each with a profile, merged by a web form with both:
    (a, b, b's email, b's mail interaction id)."""
    email = f"profile.{unique_phone()[-7:]}@mail.ru"
    a, _ = customer_through_pipeline(ingest, api, auth, occurred_at="2026-10-01T10:00:00+03:00")
    first_phone = _card(api, auth, a)["identifiers"][0]["value"]
    # The same person writes from a mailbox under the same name: names that conflict would hold the
    # link below for review (duplicates guard) instead of merging.
    mail = _ingested(ingest, auth, interaction(channel="email", occurred_at="2026-10-02T10:00:00+03:00",
                                               customer={"email": email, "name": "Ирина Петрова"}))
    b = wait_until(lambda: (api.get("/v1/customers", params={"q": email}, headers=auth(*AGENT))
                            .json()["items"] or [None])[0], message="second customer")["id"]
    assert b != a
    _patch(api, auth, a, {"name": "Анна Смирнова", "company": "ООО Альфа", "tags": ["a"]})
    _patch(api, auth, b, {"name": "Борис Петрович Орлов", "birth_date": "1990-05-05", "tags": ["b"]})
    card_until(api, auth, b, lambda c: c["birth_date"] == "1990-05-05", "b's profile")
    card_until(api, auth, a, lambda c: c["company"] == "ООО Альфа", "a's profile")
    # One web form with both: the older customer (a) survives and gathers b's profile.
    _ingested(ingest, auth, interaction(channel="web_form", occurred_at="2026-10-03T10:00:00+03:00",
                                        customer={"phone": first_phone, "email": email}))
    merged = card_until(api, auth, a, lambda c: len(c["members"]) == 2, "merged card")
    assert (merged["name"], merged["birth_date"], merged["tags"]) == ("Анна Смирнова", "1990-05-05", ["a", "b"])
    assert _card(api, auth, b)["id"] == a
    return a, b, email, mail


def _split(api, auth, cid: str, email: str, into: str | None = None) -> str:
    body = {"identifiers": [{"kind": "email", "value": email}], "into": into}
    split = api.post(f"/v1/customers/{cid}/split", json=body, headers=auth("supervisor", "sup-1"))
    assert split.status_code == 202, split.text
    return split.json()["target_customer_id"]


def test_an_undone_merge_gives_each_customer_its_own_profile_back_and_a_rebuild_keeps_it(
    settings, ingest, api, auth
):
    with running(settings, WORK_WORKERS):
        a, b, email, mail = _merged_pair(ingest, api, auth)
        target = _split(api, auth, a, email)
        apart = card_until(api, auth, a, lambda c: len(c["members"]) == 1, "merge undone")
        assert _profile(apart) == (a, "Анна Смирнова", None, "ООО Альфа", ["a"], [a])
        back = card_until(api, auth, target, lambda c: c["birth_date"] is not None, "b's profile went along")
        assert _profile(back) == (target, "Борис Петрович Орлов", "1990-05-05", None, ["b"], sorted([b, target]))
        found = api.get("/v1/customers", params={"q": "Борис Петрович Орлов"}, headers=auth(*AGENT)).json()
        assert {"id": target, "name": "Борис Петрович Орлов"} in [{"id": i["id"], "name": i["name"]}
                                                                    for i in found["items"]]
        # b's id answers with the part it brought in, so a later change to b lands there too.
        assert _card(api, auth, b)["id"] == target
        wait_until(lambda: any(t["id"] == mail for t in api.get(f"/v1/customers/{target}/timeline",
                                                                 headers=auth(*AGENT)).json()["items"]),
                   message="b's mail went along")
        _patch(api, auth, b, {"company": "ИП Орлов"})
        card_until(api, auth, target, lambda c: c["company"] == "ИП Орлов", "a change through b's id")
        assert _card(api, auth, a)["company"] == "ООО Альфа"
    before = {cid: _profile(_card(api, auth, cid)) for cid in (a, b, target)}
    report = rebuild(settings)
    assert {"timeline", "work"} <= set(report.rebuilt) and not report.skipped
    assert {cid: _profile(_card(api, auth, cid)) for cid in (a, b, target)} == before


def test_a_part_split_into_another_customer_takes_its_profile_to_that_card(settings, ingest, api, auth):
    with running(settings, WORK_WORKERS):
        a, b, email, _ = _merged_pair(ingest, api, auth)
        d, _ = customer_through_pipeline(ingest, api, auth)
        _patch(api, auth, d, {"name": "Дмитрий Козлов", "tags": ["d"]})
        card_until(api, auth, d, lambda c: c["name"] == "Дмитрий Козлов", "d's profile")
        assert _split(api, auth, a, email, into=d) == d
        joined = card_until(api, auth, d, lambda c: len(c["members"]) == 2, "b joined d")
        # d's own fields win; b's fill what d has not set, as after a merge.
        assert _profile(joined) == (d, "Дмитрий Козлов", "1990-05-05", None, ["b", "d"], sorted([b, d]))
        left = card_until(api, auth, a, lambda c: len(c["members"]) == 1, "b left a")
        assert _profile(left) == (a, "Анна Смирнова", None, "ООО Альфа", ["a"], [a])


def _random_name() -> str:
    syllables = ("ка", "ло", "ми", "ра", "ту", "не", "зо", "ве", "ша", "до", "ри", "бу")
    first = "".join(random.choice(syllables) for _ in range(3)).capitalize()
    return f"{first} {''.join(random.choice(syllables) for _ in range(4)).capitalize()}ова"


def test_search_finds_a_customer_by_the_name_an_employee_set_in_either_script_and_with_a_typo(
    settings, ingest, api, auth
):
    name = _random_name()
    with running(settings, WORK_WORKERS):
        cid, _ = customer_through_pipeline(ingest, api, auth)
        _patch(api, auth, cid, {"name": name})
        card_until(api, auth, cid, lambda c: c["name"] == name, "manual name")
        typo = name[:-1] + "о"  # ...ова -> ...ово
        reordered = " ".join(reversed(name.lower().split()))
        for query in (name, reordered, typo, latin(name).title()):
            found = api.get("/v1/customers", params={"q": query, "limit": 10}, headers=auth(*AGENT))
            assert found.status_code == 200, found.text
            hits = {i["id"]: i for i in found.json()["items"]}
            assert cid in hits, (query, found.json())
            assert hits[cid]["name"] == name


def test_a_requests_first_response_is_the_agents_first_reply_after_it_opened(settings, ingest, api, auth):
    with running(settings, WORK_WORKERS):
        cid, call = customer_through_pipeline(ingest, api, auth)
        opened = api.post(f"/v1/customers/{cid}/requests", json={"subject": "Счёт", "priority": "normal"},
                          headers=auth(*AGENT))
        assert opened.status_code == 202, opened.text
        [item] = listed(api, auth, "/v1/requests", {"customer_id": cid}, bool, "request opened")
        assert item["first_response_at"] is None  # the inbound call before it is no response
        replied_at = (datetime.fromisoformat(item["opened_at"]) + timedelta(seconds=3)).astimezone(UTC)
        # An inbound message and an outbound one without an agent are no response either.
        for direction, agent in (("inbound", "emp-7"), ("outbound", None)):
            _ingested(ingest, auth, interaction(customer=call["customer"], direction=direction, agent_id=agent,
                                                occurred_at=(replied_at - timedelta(seconds=2)).isoformat()))
        _ingested(ingest, auth, interaction(customer=call["customer"], direction="outbound", agent_id="emp-7",
                                            occurred_at=replied_at.isoformat()))
        [item] = listed(api, auth, "/v1/requests", {"customer_id": cid},
                        lambda i: bool(i and i[0]["first_response_at"]), "first response")
        assert datetime.fromisoformat(item["first_response_at"]) == replied_at
        # A status change after the reply leaves the first response as it was.
        wait_until(lambda: datetime.now(UTC) > replied_at + timedelta(seconds=1), message="after the reply")
        moved = api.post(f"/v1/requests/{item['id']}/status", json={"status": "resolved"}, headers=auth(*AGENT))
        assert moved.status_code == 202
        [item] = listed(api, auth, "/v1/requests", {"customer_id": cid, "status": "resolved"}, bool, "resolved")
        assert datetime.fromisoformat(item["first_response_at"]) == replied_at
    # A rebuild applies the request after the timeline holds the reply: the same first response.
    report = rebuild(settings)
    assert {"timeline", "work"} <= set(report.rebuilt)
    [again] = listed(api, auth, "/v1/requests", {"customer_id": cid}, bool, "request rebuilt")
    assert again == item
