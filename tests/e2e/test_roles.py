"""Every route of both services declares its roles and enforces them: 401 without a valid token,
403 for every other role, and the allowed roles get through on the happy path."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kartoteka.auth import Role, mint
from tests.support.alerts import raise_alert
from tests.support.data import interaction, unique_phone
from tests.support.route_examples import (
    EXAMPLES,
    MADE_UP,
    duplicate_pair,
    open_proposal,
    work_items,
)
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
    twin = duplicate_pair(both["ingest"], auth)
    alert = raise_alert(settings, "emp-roles-watched")
    with running(settings, ("resolver", "relay", "timeline", "work", "alerts", "duplicates")):
        found = wait_until(
            lambda: both["api"]
            .get("/v1/customers", params={"q": phone}, headers=auth("agent", "emp-setup"))
            .json()["items"],
            message="the customer is searchable",
        )
        data = {"customer": found[0]["id"], "phone": phone, "alert": alert,
                **work_items(both["api"], auth, found[0]["id"]),
                "proposal": open_proposal(both["api"], auth, twin)}
        wait_until(lambda: both["api"].get(f"/v1/audit/alerts/{alert}", headers=auth(
            "security_officer", "emp-setup")).status_code == 200, message="the alert is listed")
    failures = []
    for route in routes:
        for role in sorted(route.roles or ()):
            response = _call(both[route.service], route, data, auth(role, f"emp-ok-{role.value}"))
            if not 200 <= response.status_code < 300:
                failures.append(f"{route} as {role.value}: {response.status_code} {response.text[:200]}")
    assert not failures, "\n".join(failures)
