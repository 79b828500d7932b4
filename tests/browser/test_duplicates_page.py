"""The review queue and the card's possible duplicates, over plain HTTP against the served api:
a supervisor sees the pair with its reasons in words and decides it; an agent sees neither."""

from __future__ import annotations

import httpx
import pytest

from tests.support.audit import rows
from tests.support.data import interaction, unique_phone
from tests.support.pages import access_rows
from tests.support.workers import wait_until

pytestmark = pytest.mark.integration


def _signed_in(site, role: str, subject: str) -> tuple[httpx.Client, str]:
    """A signed-in HTTP client (cookies kept) and its session's CSRF token."""
    client = httpx.Client(base_url=site.url, follow_redirects=False, timeout=10)
    csrf = client.get("/login").text.split('name="csrf" value="')[1].split('"')[0]
    signed = client.post("/login", data={"token": site.token(role, subject), "csrf": csrf})
    assert signed.status_code == 303, signed.text
    page = client.get(signed.headers["location"])
    return client, page.text.split('data-csrf="')[1].split('"')[0]


def _pair(site) -> dict:
    """One person twice (a mistyped number, the same birth date and address): their open proposal."""
    phone = unique_phone().replace(" ", "").replace("-", "")
    house = phone[-3:]
    for number in (phone, phone[:-1] + str((int(phone[-1]) + 1) % 10)):
        sent = site.ingest.post("/v1/interactions", headers=site.headers("channel", "web"), json=interaction(
            customer={"phone": number, "name": "Вера Лаптева"},
            details={"birth_date": "1971-08-09", "address": f"Тверь, ул. Лесная, д. {house}"}))
        assert sent.status_code == 202, sent.text

    def found() -> dict | None:
        items = site.api("GET", "/v1/duplicates", "supervisor", "sup-poller", params={"limit": 500}).json()["items"]
        return next((i for i in items for e in i["evidence"]
                     if e["attribute"] == "address" and house in str(e["values"])), None)

    return wait_until(found, message="a proposal for the pair")


def test_a_supervisor_reviews_a_pair_with_its_reasons_in_words_and_rejects_it(site):
    proposal = _pair(site)
    a, b = proposal["customer_ids"]
    supervisor, csrf = _signed_in(site, "supervisor", "sup-page")
    queue = supervisor.get("/desk/duplicates", params={"lang": "en"}).text
    assert proposal["id"] in queue and f"/desk/customers/{a}" in queue and f"/desk/customers/{b}" in queue
    assert "same birth date" in queue and "phones one digit apart" in queue
    card = supervisor.get(f"/desk/customers/{a}").text
    assert "Possible duplicates" in card and f'/desk/customers/{b}">Вера Лаптева</a>' in card
    assert f'href="/desk/duplicates/{proposal["id"]}"' in card, "the card links the proposal itself"
    own = supervisor.get(f"/desk/duplicates/{proposal['id']}", params={"lang": "en"}).text
    assert "same birth date" in own and f"/desk/duplicates/{proposal['id']}/reject" in own
    assert supervisor.post(f"/desk/duplicates/{proposal['id']}/reject",
                           data={"reason": "two people"}).status_code == 403, "no CSRF, no decision"
    answer = supervisor.post(f"/desk/duplicates/{proposal['id']}/reject", data={"csrf": csrf, "reason": "two people"})
    assert answer.status_code == 303 and answer.headers["location"] == "/desk/duplicates"
    wait_until(lambda: any(i["id"] == proposal["id"] for i in site.api(
        "GET", "/v1/duplicates", "supervisor", "sup-poller", params={"status": "rejected"}).json()["items"]),
        message="the rejection applied")
    assert proposal["id"] not in supervisor.get("/desk/duplicates").text
    listed = wait_until(lambda: access_rows(site, "sup-page", "/desk/duplicates"), message="queue audited")
    assert {"duplicate.list"} <= {r["action"] for r in listed}
    decided = wait_until(lambda: access_rows(site, "sup-page", "/desk/duplicates/{proposal_id}/reject"),
                         message="decision audited")
    assert set(decided[0]["customer_ids"]) == {a, b}


def test_an_agent_sees_no_queue_and_no_duplicates_on_the_card(site):
    proposal = _pair(site)
    agent, _ = _signed_in(site, "agent", "emp-page")
    assert agent.get("/desk/duplicates").status_code == 403
    card = agent.get(f"/desk/customers/{proposal['customer_ids'][0]}", params={"lang": "en"}).text
    assert "Possible duplicates" not in card


def test_a_held_family_link_says_its_conflict_in_words_to_a_supervisor_only(site):
    landline, mobile = (unique_phone().replace(" ", "").replace("-", "") for _ in range(2))
    email = f"oleg{mobile[-6:]}@mail.ru"
    for customer, born in (({"phone": landline, "name": "Галина Орлова"}, "1955-03-01"),
                           ({"phone": mobile, "email": email, "name": "Олег Орлов"}, "1984-11-20"),
                           ({"phone": landline, "email": email, "name": "Олег Орлов"}, None)):
        sent = site.ingest.post("/v1/interactions", headers=site.headers("channel", "web"), json=interaction(
            customer=customer, details={"birth_date": born} if born else {}))
        assert sent.status_code == 202, sent.text
        # The form joining both comes after both people are known, as it would in life.
        wait_until(lambda sent=sent: rows(site.settings.dsn, "SELECT 1 FROM identity_attributions"
                                          " WHERE interaction_id = %s", (sent.json()["id"],)),
                   message="attributed")

    def held() -> dict | None:
        items = site.api("GET", "/v1/duplicates", "supervisor", "sup-poller", params={"limit": 500}).json()["items"]
        return next((i for i in items for e in i["evidence"]
                     if e["attribute"] == "held" and landline[-7:] in e["values"][0]), None)

    proposal = wait_until(held, message="the held link proposed")
    supervisor, _ = _signed_in(site, "supervisor", "sup-held-page")
    own = supervisor.get(f"/desk/duplicates/{proposal['id']}", params={"lang": "en"}).text
    assert "same phone, but birth dates differ: 1955-03-01 vs 1984-11-20" in own or (
        "same phone, but birth dates differ: 1984-11-20 vs 1955-03-01" in own), own[:3000]
    read = wait_until(lambda: access_rows(site, "sup-held-page", "/desk/duplicates/{proposal_id}"),
                      message="the read audited")
    assert set(read[0]["customer_ids"]) == set(proposal["customer_ids"])
    agent, _ = _signed_in(site, "agent", "emp-held-page")
    assert agent.get(f"/desk/duplicates/{proposal['id']}").status_code == 403
