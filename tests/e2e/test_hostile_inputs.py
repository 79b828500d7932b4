"""The classic hostile inputs, sent on purpose because random generation rarely reaches them.

Oversized and chunked bodies, odd unicode, huge limits, bad cursors and deep JSON, through the
real apps (module fixtures in ``conftest.py``): no answer is a 5xx, every 4xx is in the error
shape, and what ingest acknowledges at the edges of validation every reader can load.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from kartoteka.auth import Role
from tests.support.data import interaction, unique_phone
from tests.support.fuzzing import Service, assert_contract
from tests.support.workers import wait_until

pytestmark = pytest.mark.integration

DEEP = 100_000


def _nested(depth: int, leaf: Any = 1) -> str:
    return "[" * depth + json.dumps(leaf) + "]" * depth


def _deep_details(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def _cursor(text: str) -> str:
    """A cursor whose decoded JSON is ``text`` (the API issues base64url without padding)."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _with_raw_details(details: str) -> str:
    """A valid interaction whose ``details`` is the given JSON text, spliced in unparsed."""
    item = interaction()
    del item["details"]
    return json.dumps(item)[:-1] + ', "details": ' + details + "}"


HOSTILE_INGEST: list[tuple[str, Callable[[], dict[str, Any]]]] = [
    ("deep JSON array body", lambda: {"content": _nested(DEEP)}),
    ("deep JSON details", lambda: {"content": _with_raw_details(_deep_details(900))}),
    ("details nested just past the limit", lambda: {"json": interaction(details=json.loads(_deep_details(9)))}),
    ("body over 8 MB", lambda: {"content": b'{"a": "' + b"x" * (9 * 1024 * 1024) + b'"}'}),
    ("chunked body over 8 MB", lambda: {"content": iter([b'{"a": "'] + [b"x" * 1024 * 1024] * 9 + [b'"}'])}),
    ("invalid UTF-8", lambda: {"content": b'{"channel": "\xff\xfe"}'}),
    ("lone surrogate escape", lambda: {"content": b'{"channel": "call", "external_id": "\\ud800"}'}),
    ("lone surrogate in every text field", lambda: {"content": json.dumps(interaction(
        external_id="\ud800", subject="\udfff", body="\ud800", agent_id="\udbff",
        customer={"phone": unique_phone(), "name": "\ud800"}, details={"\ud800": "\udc00"}))}),
    ("NUL characters", lambda: {"json": interaction(body="a\x00b", subject="\x00",
                                                    customer={"phone": unique_phone(), "name": "\x00"})}),
    ("right-to-left and zero-width text", lambda: {"json": interaction(
        external_id="\u202e\u200b" + uuid.uuid4().hex, customer={"email": "\u202eа@б.рф", "name": "\u200d"})}),
    ("NaN and Infinity", lambda: {"content": b'{"channel": "call", "details": {"x": NaN, "y": Infinity}}'}),
    ("huge integer", lambda: {"content": b'{"details": {"x": ' + b"9" * 5000 + b"}}"}),
    ("not JSON", lambda: {"content": b"{", "headers": {"content-type": "application/json"}}),
    ("wrong content type", lambda: {"content": b"channel=call", "headers": {"content-type": "text/plain"}}),
    ("empty body", lambda: {"content": b""}),
    ("JSON null", lambda: {"content": b"null"}),
    ("year 0 timestamp", lambda: {"json": interaction(occurred_at="0000-01-01T00:00:00+00:00")}),
    ("offset beyond a day", lambda: {"json": interaction(occurred_at="2026-01-01T00:00:00+99:99")}),
    ("year 9999 at the last second east of UTC", lambda: {"json": interaction(
        occurred_at="9999-12-31T23:59:59-14:00")}),
    ("phone made of digits only, 60 of them", lambda: {"json": interaction(customer={"phone": "9" * 60})}),
]


@pytest.mark.parametrize(("path"), ["/v1/interactions", "/v1/interactions/batch"])
@pytest.mark.parametrize(("what", "make"), HOSTILE_INGEST, ids=[w for w, _ in HOSTILE_INGEST])
def test_ingest_answers_hostile_bodies_in_the_error_shape(
    ingest_service: Service, what: str, make: Callable[[], dict[str, Any]], path: str
) -> None:
    request = make()
    if path.endswith("batch"):
        if "json" in request:
            request["json"] = {"items": [request["json"]]}
        elif isinstance(request["content"], bytes | str):
            text = request["content"]
            request["content"] = b'{"items": [' + (text if isinstance(text, bytes) else text.encode()) + b"]}"
    headers = {"content-type": "application/json", **ingest_service.headers(Role.channel),
               **request.pop("headers", {})}
    response = ingest_service.client.post(path, headers=headers, **request)
    assert_contract(response)


@pytest.mark.parametrize(
    ("route", "params"),
    [
        ("/v1/customers", {"q": "а", "limit": str(10**30)}),
        ("/v1/customers", {"q": "а", "limit": "-1"}),
        ("/v1/customers", {"q": "а", "limit": "1e3"}),
        ("/v1/customers", {"q": "\x00"}),
        ("/v1/customers?q=%ED%A0%80", {}),  # a surrogate, percent-encoded: not UTF-8
        ("/v1/customers?q=%FF%FE", {}),
        ("/v1/customers", {"q": "%"}),
        ("/v1/customers", {"q": "\\"}),
        ("/v1/customers", {"q": "+7" + "9" * 190}),
        ("/v1/customers", {"q": "ё" * 200}),
        ("/v1/customers", {"q": "*" * 200}),
        ("/v1/customers/{cid}/timeline", {"limit": "500"}),
        ("/v1/customers/{cid}/timeline", {"limit": "501"}),
        ("/v1/customers/{cid}/timeline", {"before": "!!!"}),
        ("/v1/customers/{cid}/timeline", {"before": _cursor("[]")}),
        ("/v1/customers/{cid}/timeline", {"before": _cursor('null')}),
        ("/v1/customers/{cid}/timeline", {"before": _cursor('["2026-13-01", 1]')}),
        ("/v1/customers/{cid}/timeline", {"before": _cursor('["2026-01-01", 1e309]')}),
        ("/v1/customers/{cid}/timeline", {"before": _cursor('["2026-01-01", 999999999999999999999]')}),
        ("/v1/customers/{cid}/timeline", {"before": _cursor('["\\ud800", 1]')}),
        ("/v1/customers/{cid}/timeline", {"before": _cursor('["0001-01-01T00:00:00+14:00", 1]')}),
        ("/v1/customers/{cid}/timeline", {"before": _cursor('["9999-12-31T23:59:59-14:00", 1]')}),
        ("/v1/customers/{cid}/timeline", {"before": "Wy" + "Wy" * 99}),
        ("/v1/customers/{cid}/timeline", {"before": "x" * 201}),
        ("/v1/customers/{cid}/timeline", {"channel": "fax"}),
        ("/v1/customers/%ED%A0%80/timeline", {}),
        ("/v1/customers/%FF/export", {}),
        ("/v1/customers/%00", {}),
        ("/v1/customers/00000000-0000-0000-0000-000000000000", {}),
        ("/v1/customers/{cid}/export", {}),
        ("/v1/audit/access", {"limit": str(2**64)}),
        ("/v1/audit/access", {"before": _cursor('[1e309]')}),
        ("/v1/audit/access", {"before": _cursor('[9223372036854775808]')}),
        ("/v1/audit/access", {"from": "0001-01-01T00:00:00+14:00"}),
        ("/v1/audit/access", {"from": "9999-12-31T23:59:59-14:00", "to": "0001-01-01T00:00:00Z"}),
        ("/v1/audit/access", {"customer_id": "\x00"}),
        ("/v1/audit/access?format=csv&employee_id=%ED%A0%80", {}),
        ("/v1/audit/access", {"format": "csv", "employee_id": "\x00"}),
        ("/v1/audit/alerts", {"before": _cursor('["x", "x"]')}),
        ("/v1/audit/alerts", {"before": _cursor('["2026-01-01T00:00:00Z", "x"]')}),
        ("/v1/audit/alerts", {"before": _cursor('["2026-01-01T00:00:00Z", "\\u0000"]')}),
    ],
)
def test_api_answers_hostile_parameters_in_the_error_shape(
    api_service: Service, route: str, params: dict[str, str]
) -> None:
    role = Role.security_officer if route.startswith("/v1/audit") else Role.agent
    path = route.replace("{cid}", api_service.customer_id or "")
    response = api_service.client.get(
        path, params=params or None, headers=api_service.headers(role)
    )
    assert_contract(response)


@pytest.mark.parametrize(
    "body",
    [
        {"status": "left", "effective_at": "0001-01-01T00:00:00+14:00"},
        {"status": "active", "timezone": "../../etc/passwd"},
        {"status": "active", "timezone": "\x00"},
        {"status": "active", "timezone": "Europe/Moscow\ud800"},
        {"status": "active", "work_hours": [25, -1]},
        {"status": "active", "team": "т" * 10_000},
        {"status": "active", "work_hours": [9]},
        {"status": "notice_given", "role": ""},
    ],
)
def test_admin_bodies_with_odd_values_answer_in_the_error_shape(
    api_service: Service, body: dict[str, Any]
) -> None:
    response = api_service.client.post(
        f"/v1/employees/fuzz-target-{uuid.uuid4().hex[:6]}/status",
        content=json.dumps(body).encode(),
        headers={"content-type": "application/json", **api_service.headers(Role.admin)},
    )
    assert_contract(response)


def test_an_admin_change_with_nul_in_its_team_is_refused_not_acknowledged(
    api_service: Service,
) -> None:
    response = api_service.client.post(
        f"/v1/employees/fuzz-nul-{uuid.uuid4().hex[:6]}/status",
        json={"status": "notice_given", "team": "a\x00b"},
        headers=api_service.headers(Role.admin),
    )
    assert_contract(response)
    assert response.status_code == 422, response.text


def test_interactions_accepted_at_the_edges_of_validation_stay_readable(
    ingest_service: Service, api_service: Service
) -> None:
    """What ingest acknowledges, every reader can load: extreme dates, sizes and scripts."""
    phone = unique_phone()
    deep: dict[str, Any] = {"level": 1}
    for level in range(2, 8):  # with details itself: exactly MAX_DETAILS_DEPTH levels
        deep = {"level": level, "inner": deep}
    edges = [
        interaction(customer={"phone": phone, "name": "\u202eИрина\u200d Петрова"},
                    occurred_at="0001-01-02T00:00:00+00:00", subject="\U0001f600" * 1000),
        interaction(customer={"phone": phone, "handle": "tg:" + "ю" * 200},
                    occurred_at="9999-12-30T00:00:00Z", body="я\u0301" * 50_000),
        interaction(customer={"phone": phone, "email": "Ёлка@пример.рф"}, channel="email",
                    occurred_at="2028-02-29T23:59:59.999999999+14:00",
                    details={"deep": deep, "blob": "ж" * 30_000, "n": 2**62, "f": 1e308}),
    ]
    for item in edges:
        sent = ingest_service.client.post("/v1/interactions", json=item,
                                          headers=ingest_service.headers(Role.channel))
        assert sent.status_code == 202, sent.text
    agent = api_service.headers(Role.agent)

    def three_rows() -> str | None:
        found = api_service.client.get("/v1/customers", params={"q": phone}, headers=agent)
        assert_contract(found)
        for hit in found.json()["items"]:
            page = api_service.client.get(f"/v1/customers/{hit['id']}/timeline", headers=agent)
            assert_contract(page)
            if len(page.json()["items"]) == 3:
                return str(hit["id"])
        return None

    customer = wait_until(three_rows, timeout_s=60, message="three edge interactions shown")
    cursor: str | None = None
    seen = 0
    while True:
        page = api_service.client.get(f"/v1/customers/{customer}/timeline",
                                      params={"limit": 1, **({"before": cursor} if cursor else {})},
                                      headers=agent)
        assert page.status_code == 200, page.text
        seen += len(page.json()["items"])
        cursor = page.json()["next"]
        if cursor is None:
            break
    assert seen == 3
    for path in (f"/v1/customers/{customer}", f"/v1/customers/{customer}/export"):
        answer = api_service.client.get(path, headers=agent)
        assert answer.status_code == 200, answer.text[:500]
    by_name = api_service.client.get("/v1/customers", params={"q": "Ирина Петрова"}, headers=agent)
    assert by_name.status_code == 200, by_name.text[:500]
