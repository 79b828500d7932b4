"""Every route of both services declares its roles and enforces them: 401 without a valid token,
403 for every other role, and the allowed roles get through on the happy path."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kartoteka.auth import Role, mint
from tests.support.alerts import raise_alert
from tests.support.data import interaction, unique_phone
from tests.support.workers import running, wait_until

pytestmark = pytest.mark.integration

OPERATIONAL = {"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
# The pages sign in with a session cookie, not a bearer token: tests/browser/test_sessions.py
# holds every page route to its roles.
PAGES = ("/login", "/logout", "/desk", "/console", "/static")
# Routes the contract names; enumeration finding fewer means it missed routes, not that they are safe.
CONTRACT = {
    ("ingest", "POST", "/v1/interactions"),
    ("ingest", "POST", "/v1/interactions/batch"),
    ("ingest", "POST", "/v1/channels/email"),
    ("ingest", "POST", "/v1/channels/telephony/cdr"),
    ("ingest", "POST", "/v1/channels/web-form/{form_id}"),
    ("ingest", "POST", "/v1/channels/telegram"),
    ("api", "GET", "/v1/customers"),
    ("api", "GET", "/v1/customers/{customer_id}"),
    ("api", "GET", "/v1/customers/{customer_id}/timeline"),
    ("api", "GET", "/v1/audit/access"),
}


@dataclass(frozen=True)
class Route:
    service: str
    method: str
    path: str
    roles: frozenset[Role] | None  # None: no require_roles dependency at all

    def __str__(self) -> str:
        return f"{self.service} {self.method} {self.path}"


def _flat_routes(app: FastAPI) -> Iterator[Any]:
    """Routes with their full paths; FastAPI >= 0.165 nests included routers in ``app.routes``."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: app.routes is already flat
        yield from app.routes
        return
    yield from iter_route_contexts(app.routes)


def _declared_roles(dependant: Any) -> frozenset[Role] | None:
    """The union of ``roles`` of every require_roles dependency, however deeply nested."""
    found: set[Role] = set()
    seen = False
    stack = list(getattr(dependant, "dependencies", []))
    while stack:
        dep = stack.pop()
        roles = getattr(dep.call, "roles", None)
        if roles is not None:
            seen = True
            found.update(Role(r) for r in roles)
        stack.extend(dep.dependencies)
    return frozenset(found) if seen else None


def routes_of(service: str, app: FastAPI) -> list[Route]:
    found = []
    for route in _flat_routes(app):
        path = getattr(route, "path", None)
        if path is None or path in OPERATIONAL or path.startswith(PAGES):
            continue
        roles = _declared_roles(getattr(route, "dependant", None))
        for method in sorted(getattr(route, "methods", None) or ()):
            if method != "HEAD":
                found.append(Route(service, method, path, roles))
    return found


@pytest.fixture
def both(ingest: TestClient, api: TestClient) -> dict[str, TestClient]:
    return {"ingest": ingest, "api": api}


@pytest.fixture
def routes(both: dict[str, TestClient]) -> list[Route]:
    return [r for service, client in both.items() for r in routes_of(service, client.app)]


# Minimal valid input per route: (path params, query, json body). Path params are filled in by
# the happy-path test from real data; the refusal tests use the same shapes with made-up ids.
Example = Callable[[dict[str, str]], tuple[dict[str, str], dict[str, Any], Any]]
EXAMPLES: dict[tuple[str, str, str], Example] = {
    ("ingest", "POST", "/v1/interactions"): lambda d: ({}, {}, interaction()),
    ("ingest", "POST", "/v1/interactions/batch"): lambda d: ({}, {}, {"items": [interaction()]}),
    # Channel-native bodies are (bytes, content type).
    ("ingest", "POST", "/v1/channels/email"): lambda d: ({}, {}, (
        f"From: a@example.ru\nMessage-ID: <{uuid.uuid4()}@roles>\n\nhi".encode(), "message/rfc822")),
    ("ingest", "POST", "/v1/channels/telephony/cdr"): lambda d: ({}, {}, (
        f'"","89123456789","101","c","","SIP/t-1","SIP/101-2","Dial","","2026-11-20 10:00:00","",'
        f'"2026-11-20 10:00:01",1,0,"NO ANSWER","DOCUMENTATION","{uuid.uuid4()}",""'.encode(), "text/csv")),
    ("ingest", "POST", "/v1/channels/web-form/{form_id}"): lambda d: ({"form_id": "contact"}, {}, (
        f"phone=89123456789&message={uuid.uuid4()}".encode(), "application/x-www-form-urlencoded")),
    ("ingest", "POST", "/v1/channels/telegram"): lambda d: ({}, {}, {
        "update_id": uuid.uuid4().int % 2**31, "message": {"message_id": 1, "date": 1763622000,
        "chat": {"id": 5, "type": "private"}, "from": {"id": 5, "is_bot": False, "first_name": "A"},
        "text": "hi"}}),
    ("api", "GET", "/v1/customers"): lambda d: ({}, {"q": d["phone"]}, None),
    ("api", "GET", "/v1/customers/{customer_id}"): lambda d: ({"customer_id": d["customer"]}, {}, None),
    ("api", "GET", "/v1/customers/{customer_id}/timeline"): lambda d: (
        {"customer_id": d["customer"]}, {"limit": "10"}, None
    ),
    ("api", "GET", "/v1/customers/{customer_id}/export"): lambda d: (
        {"customer_id": d["customer"]}, {}, None
    ),
    ("api", "POST", "/v1/customers/{customer_id}/split"): lambda d: (
        {"customer_id": d["customer"]}, {}, {"identifiers": [{"kind": "phone", "value": d["phone"]}]}
    ),
    # The workers are stopped by then: the erasure is requested (202), not carried out.
    ("api", "POST", "/v1/customers/{customer_id}/erase"): lambda d: (
        {"customer_id": d["customer"]}, {}, {"reason": "отзыв согласия"}
    ),
    ("api", "POST", "/v1/customers/{customer_id}/hold"): lambda d: (
        {"customer_id": d["customer"]}, {}, {"reason": "запрос суда", "until": "2030-01-01T00:00:00Z"}
    ),
    ("api", "GET", "/v1/audit/access"): lambda d: ({}, {"employee_id": "emp-1"}, None),
    ("api", "GET", "/v1/audit/alerts"): lambda d: ({}, {}, None),
    ("api", "GET", "/v1/audit/verify"): lambda d: ({}, {}, None),
    ("api", "GET", "/v1/audit/alerts/{alert_id}"): lambda d: ({"alert_id": d["alert"]}, {}, None),
    ("api", "POST", "/v1/audit/alerts/{alert_id}/status"): lambda d: (
        {"alert_id": d["alert"]}, {}, {"status": "acknowledged"}
    ),
    ("api", "GET", "/v1/audit/suppressions"): lambda d: ({}, {}, None),
    ("api", "POST", "/v1/employees/{employee_id}/status"): lambda d: (
        {"employee_id": "emp-roles-target"}, {}, {"status": "active", "team": "sales"}
    ),
    # The agent's work (issue 14): the request and the task are made in the happy path's setup.
    ("api", "POST", "/v1/customers/{customer_id}/notes"): lambda d: (
        {"customer_id": d["customer"]}, {}, {"text": "Звонок", "outcome": "callback"}
    ),
    ("api", "PATCH", "/v1/customers/{customer_id}"): lambda d: ({"customer_id": d["customer"]}, {}, {"tags": ["vip"]}),
    ("api", "POST", "/v1/employees/{employee_id}/handover"): lambda d: (
        {"employee_id": "emp-roles-leaving"}, {}, {"to": "emp-roles-taking"}
    ),
    ("api", "POST", "/v1/customers/{customer_id}/requests"): lambda d: (
        {"customer_id": d["customer"]}, {}, {"subject": "Возврат"}
    ),
    ("api", "POST", "/v1/requests/{request_id}/status"): lambda d: (
        {"request_id": d["request"]}, {}, {"status": "pending"}
    ),
    ("api", "GET", "/v1/requests"): lambda d: ({}, {"status": "open"}, None),
    ("api", "POST", "/v1/tasks"): lambda d: (
        {}, {}, {"customer_id": d["customer"], "title": "Перезвонить", "due_at": "2027-01-01T10:00:00+03:00"}
    ),
    ("api", "POST", "/v1/tasks/{task_id}/done"): lambda d: ({"task_id": d["task"]}, {}, None),
    ("api", "GET", "/v1/tasks"): lambda d: ({}, {"assignee": "me"}, None),
    ("api", "GET", "/v1/reports/dormant"): lambda d: ({}, {"days": "30"}, None),
    ("api", "GET", "/v1/reports/birthdays"): lambda d: ({}, {"within_days": "7"}, None),
    ("api", "GET", "/v1/reports/activity"): lambda d: ({}, {"by": "channel"}, None),
    # Possible duplicates (issue 20): the proposal is made in the happy path's setup and stays open
    # (the finder stops before these calls), so every admitted role can decide it.
    ("api", "GET", "/v1/duplicates"): lambda d: ({}, {"status": "open"}, None),
    ("api", "POST", "/v1/duplicates/{proposal_id}/accept"): lambda d: ({"proposal_id": d["proposal"]}, {}, None),
    ("api", "POST", "/v1/duplicates/{proposal_id}/reject"): lambda d: (
        {"proposal_id": d["proposal"]}, {}, {"reason": "two people"}
    ),
}
MADE_UP = {"customer": str(uuid.uuid4()), "phone": "+79161234567", "request": str(uuid.uuid4()),
           "task": str(uuid.uuid4()), "proposal": str(uuid.uuid4()), "alert": str(uuid.uuid4())}


def _call(client: TestClient, route: Route, data: dict[str, str], headers: dict[str, str]) -> Any:
    example = EXAMPLES.get((route.service, route.method, route.path))
    if example is None:  # refusal checks still run: auth comes before any input is read
        path_params = {name: str(uuid.uuid4()) for name in _placeholders(route.path)}
        query, body = {}, None
    else:
        path_params, query, body = example(data)
    url = route.path.format(**path_params)
    if isinstance(body, tuple):
        content, kind = body
        return client.request(route.method, url, params=query, content=content,
                              headers={**headers, "content-type": kind})
    return client.request(route.method, url, params=query, json=body, headers=headers)


def _placeholders(path: str) -> list[str]:
    return [part[1:-1].split(":")[0] for part in path.split("/") if part.startswith("{")]


def _is_error(response: Any, status: int, code: str) -> str | None:
    """None when ``response`` is ``status`` in the contract's error shape with ``code``; else why not."""
    if response.status_code != status:
        return f"answered {response.status_code}, not {status}: {response.text[:200]}"
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return f"body is not the error shape: {response.text[:200]}"
    if set(error) != {"code", "message"} or error["code"] != code or not error["message"]:
        return f"error is {error!r}, expected code {code!r} with a message"
    return None


def test_every_route_of_both_services_declares_the_roles_it_admits(routes):
    found = {(r.service, r.method, r.path) for r in routes}
    assert found >= CONTRACT, f"route enumeration missed contract routes: {sorted(CONTRACT - found)}"
    undeclared = [str(r) for r in routes if r.roles is None]
    assert not undeclared, f"routes without a require_roles(...) declaration: {undeclared}"
    assert all(r.roles for r in routes), "a route admits no role at all"


def test_every_route_answers_401_in_the_error_shape_without_a_token(routes, both):
    failures = []
    for route in routes:
        for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer"}):
            why = _is_error(_call(both[route.service], route, MADE_UP, headers), 401, "unauthorized")
            if why:
                failures.append(f"{route} with {headers or 'no header'}: {why}")
    assert not failures, "\n".join(failures)


def test_every_route_answers_401_to_a_forged_expired_or_malformed_token(routes, both, settings):
    forged = mint("another-secret-entirely-" + "x" * 32, "emp-1", Role.admin, 3600)
    expired = mint(settings.secret, "emp-1", Role.admin, 60, now=1_600_000_000)
    bad_tokens = {"forged": forged, "expired": expired, "garbage": "not.a.token", "empty-ish": "x"}
    failures = []
    for route in routes:
        allowed = next(iter(route.roles or {Role.admin}))
        bad_tokens["forged-right-role"] = mint("yet-another-secret-" + "y" * 32, "emp-1", allowed, 3600)
        for name, token in bad_tokens.items():
            response = _call(both[route.service], route, MADE_UP, {"Authorization": f"Bearer {token}"})
            why = _is_error(response, 401, "unauthorized")
            if why:
                failures.append(f"{route} with a {name} token: {why}")
    assert not failures, "\n".join(failures)


def test_the_data_protection_officer_is_admitted_to_erasure_holds_and_exports_only(routes):
    admitted = {(r.service, r.method, r.path) for r in routes if Role.dpo in (r.roles or ())}
    assert admitted == {("api", "POST", "/v1/customers/{customer_id}/erase"),
                        ("api", "POST", "/v1/customers/{customer_id}/hold"),
                        ("api", "GET", "/v1/customers/{customer_id}/export")}


def test_every_route_answers_403_in_the_error_shape_to_every_role_it_does_not_admit(routes, both, auth):
    failures = []
    checked = 0
    for route in routes:
        assert route.roles is not None, f"{route} declares no roles"
        for role in set(Role) - route.roles:
            checked += 1
            response = _call(both[route.service], route, MADE_UP, auth(role, f"emp-{role.value}"))
            why = _is_error(response, 403, "forbidden")
            if why:
                failures.append(f"{route} as {role.value}: {why}")
    assert checked >= len(routes), "every route must refuse at least one role"
    assert not failures, "\n".join(failures)


def test_every_admitted_role_gets_a_success_on_the_happy_path_of_every_route(
    settings, routes, both, auth
):
    missing = [str(r) for r in routes if (r.service, r.method, r.path) not in EXAMPLES]
    assert not missing, f"add a minimal valid request for these routes to EXAMPLES: {missing}"
    phone = unique_phone()
    sent = both["ingest"].post(
        "/v1/interactions",
        json=interaction(customer={"phone": phone, "name": "Пётр Сидоров"}),
        headers=auth("channel", "tel"),
    )
    assert sent.status_code == 202, sent.text
    twin = _duplicate_pair(both["ingest"], auth)
    alert = raise_alert(settings, "emp-roles-watched")
    with running(settings, ("resolver", "relay", "timeline", "work", "alerts", "duplicates")):
        found = wait_until(
            lambda: both["api"]
            .get("/v1/customers", params={"q": phone}, headers=auth("agent", "emp-setup"))
            .json()["items"],
            message="the customer is searchable",
        )
        data = {"customer": found[0]["id"], "phone": phone, "alert": alert,
                **_work_items(both["api"], auth, found[0]["id"]),
                "proposal": _open_proposal(both["api"], auth, twin)}
        wait_until(lambda: both["api"].get(f"/v1/audit/alerts/{alert}", headers=auth(
            "security_officer", "emp-setup")).status_code == 200, message="the alert is listed")
    failures = []
    for route in routes:
        for role in sorted(route.roles or ()):
            response = _call(both[route.service], route, data, auth(role, f"emp-ok-{role.value}"))
            if not 200 <= response.status_code < 300:
                failures.append(f"{route} as {role.value}: {response.status_code} {response.text[:200]}")
    assert not failures, "\n".join(failures)


def _work_items(api: TestClient, auth: Callable[..., dict[str, str]], customer: str) -> dict[str, str]:
    """A request and a task (of the agent the happy path calls as) for the routes that change them;
    the work worker stops before those calls, so each admitted role finds them still open."""
    request = api.post(f"/v1/customers/{customer}/requests", json={"subject": "Счёт"},
                       headers=auth("agent", "emp-setup")).json()["id"]
    task = api.post("/v1/tasks", json={"customer_id": customer, "title": "Счёт", "due_at": "2027-01-01T10:00:00Z",
                                       "assignee": "emp-ok-agent"}, headers=auth("agent", "emp-setup")).json()["id"]
    for path, wanted in (("/v1/requests", request), ("/v1/tasks", task)):
        wait_until(lambda p=path, w=wanted: any(i["id"] == w for i in api.get(
            p, params={"limit": 500}, headers=auth("supervisor", "emp-setup")).json()["items"]),
            message=f"{wanted} listed by {path}")
    return {"request": request, "task": task}


def _duplicate_pair(ingest: TestClient, auth: Callable[..., dict[str, str]]) -> str:
    """One person twice (a mistyped number, the same birth date and address); their house number."""
    phone = unique_phone().replace(" ", "").replace("-", "")
    for number in (phone, phone[:-1] + str((int(phone[-1]) + 1) % 10)):
        sent = ingest.post("/v1/interactions", headers=auth("channel", "web"), json=interaction(
            customer={"phone": number, "name": "Анна Соколова"},
            details={"birth_date": "1977-03-04", "address": f"Тверь, ул. Мира, {phone[-4:]}"}))
        assert sent.status_code == 202, sent.text
    return phone[-4:]


def _open_proposal(api: TestClient, auth: Callable[..., dict[str, str]], house: str) -> str:
    def find() -> str | None:
        answer = api.get("/v1/duplicates", params={"limit": 500}, headers=auth("supervisor", "emp-setup"))
        return next((i["id"] for i in answer.json()["items"] for e in i["evidence"]
                     if e["attribute"] == "address" and house in str(e["values"])), None)

    return wait_until(find, message="a proposal for the duplicate pair")
