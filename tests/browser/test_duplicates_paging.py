"""Every open proposal is reachable: the JSON list and the queue page through all of them (ties in
score included), and one proposal has a page of its own, however far down the queue it is."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.browser.test_duplicates_page import _signed_in
from tests.support.pages import access_rows
from tests.support.workers import wait_until

pytestmark = pytest.mark.integration
SCORE = 0.4321  # below what the finder proposes in the other tests: their pairs stay on page one
COUNT = 35  # more than the queue's page of 30, with one score for all: the cursor must break ties


@pytest.fixture
def many(site) -> Iterator[list[str]]:
    """Open proposals of one score, put straight into the finder's table; removed afterwards."""
    ids = [str(uuid.uuid4()) for _ in range(COUNT)]
    evidence = [{"attribute": "birth_date", "values": ["1970-01-01", "1970-01-01"], "weight": 8.5, "level": 5}]
    with psycopg.connect(site.settings.dsn) as conn:
        conn.cursor().executemany(
            "INSERT INTO duplicate_proposals (proposal_id, customer_a, customer_b, score, evidence, proposed_at)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            [(i, str(uuid.uuid4()), str(uuid.uuid4()), SCORE, Jsonb(evidence), datetime.now(UTC)) for i in ids])
    yield ids
    with psycopg.connect(site.settings.dsn) as conn:
        conn.execute("DELETE FROM duplicate_proposals WHERE proposal_id = ANY(%s::uuid[])", (ids,))


def test_the_json_list_pages_through_proposals_of_one_score_without_losing_or_repeating_any(site, many):
    seen: list[str] = []
    before = None
    for _ in range(100):
        params = {"limit": 7, **({"before": before} if before else {})}
        answer = site.api("GET", "/v1/duplicates", "supervisor", "sup-pager", params=params).json()
        seen += [i["id"] for i in answer["items"]]
        scores = [i["score"] for i in answer["items"]]
        assert scores == sorted(scores, reverse=True), "best first on every page"
        before = answer["next"]
        if before is None:
            break
    assert [i for i in seen if i in many] == sorted(many, reverse=True), "ties ordered by id, each once"
    assert len(seen) == len(set(seen))


def test_a_cursor_the_api_did_not_issue_is_a_400_not_a_database_error(site):
    import base64
    import json

    for parts in ([0.5, "not-a-uuid"], ["NaN", str(uuid.uuid4())], [True, str(uuid.uuid4())]):
        cursor = base64.urlsafe_b64encode(json.dumps(parts).encode()).decode().rstrip("=")
        answer = site.api("GET", "/v1/duplicates", "supervisor", "sup-pager", params={"before": cursor})
        assert answer.status_code == 400, (parts, answer.text)
        assert answer.json()["error"]["code"] == "invalid_cursor"


def test_the_queue_pages_through_every_open_proposal_and_each_has_its_own_page(site, many):
    supervisor, _ = _signed_in(site, "supervisor", "sup-queue-pages")
    shown: list[str] = []
    page = supervisor.get("/desk/duplicates", params={"lang": "en"}).text
    for _ in range(50):
        shown += re.findall(r'<section class="proposal" id="p-([0-9a-f-]{36})"', page)
        following = re.search(r'href="(/desk/duplicates\?before=[^"]+)" rel="next"', page)
        if following is None:
            break
        page = supervisor.get(following.group(1).replace("&amp;", "&")).text
        assert "First page" in page
    assert set(many) <= set(shown) and len(shown) == len(set(shown)), "every proposal once, across pages"
    last = sorted(many)[0]  # the lowest id of the lowest score: on the last page
    own = supervisor.get(f"/desk/duplicates/{last}", params={"lang": "en"})
    assert own.status_code == 200 and f'id="p-{last}"' in own.text
    assert f'action="/desk/duplicates/{last}/accept"' in own.text, "an open proposal can be decided there"
    assert supervisor.get(f"/desk/duplicates/{uuid.uuid4()}").status_code == 404
    assert supervisor.get("/desk/duplicates/not-an-id").status_code == 404
    read = wait_until(lambda: access_rows(site, "sup-queue-pages", "/desk/duplicates/{proposal_id}"),
                      message="the proposal's page audited")
    assert read[0]["action"] == "duplicate.read" and len(read[0]["customer_ids"]) == 2


def test_a_decided_proposal_shows_its_decision_and_no_buttons(site, many):
    with psycopg.connect(site.settings.dsn) as conn:
        conn.execute("UPDATE duplicate_proposals SET status = 'rejected', decided_at = now(), decided_by = 'sup-x',"
                     " reason = 'twins' WHERE proposal_id = %s", (many[0],))
    supervisor, _ = _signed_in(site, "supervisor", "sup-decided-page")
    own = supervisor.get(f"/desk/duplicates/{many[0]}", params={"lang": "en"}).text
    assert "rejected" in own and "twins" in own and "sup-x" in own
    assert f"/desk/duplicates/{many[0]}/accept" not in own


def test_an_agent_may_not_open_a_proposal_page(site, many):
    agent, _ = _signed_in(site, "agent", "emp-proposal-page")
    assert agent.get(f"/desk/duplicates/{many[0]}").status_code == 403
