"""The fuzzed services: a real app on the real PostgreSQL and broker, tokens per role, the error contract.

Shared by the generated fuzzing (``tests/e2e/test_fuzz.py``) and the hostile inputs sent on
purpose (``tests/e2e/test_hostile_inputs.py``); their module fixtures are in ``tests/e2e/conftest.py``.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from kartoteka.auth import Role, mint
from kartoteka.settings import Settings
from tests.support.data import interaction, unique_phone
from tests.support.workers import wait_until

PIPELINE = ("resolver", "relay", "timeline")
ALL_ROLES = tuple(Role)


class Service:
    """One running app (lifespan on the real PostgreSQL and broker), with tokens per role."""

    def __init__(self, app: FastAPI, client: TestClient, settings_: Settings) -> None:
        self.app, self.client, self.settings = app, client, settings_
        self.roles = _route_roles(app)
        # Subjects nobody's fuzzed body can name: a generated "left" status must not lock us out.
        self.subjects = {role: f"fuzz-{role.value}-{uuid.uuid4().hex[:8]}" for role in ALL_ROLES}
        self.customer_id: str | None = None
        self.cursor: str | None = None
        self.accepted: set[str] = set()

    def headers(self, role: Role) -> dict[str, str]:
        token = mint(self.settings.secret, self.subjects[role], role, 3600)
        return {"Authorization": f"Bearer {token}"}

    def admitted(self, method: str, path: str) -> tuple[Role, ...]:
        return self.roles.get((method.upper(), path), ALL_ROLES)


def _route_roles(app: FastAPI) -> dict[tuple[str, str], tuple[Role, ...]]:
    """Which roles each route admits, read from its ``require_roles`` dependency."""
    found: dict[tuple[str, str], tuple[Role, ...]] = {}
    routes = list(app.routes)
    while routes:
        route = routes.pop()
        included = getattr(route, "original_router", None)  # FastAPI includes routers lazily
        routes.extend(included.routes if included is not None else ())
        dependant = getattr(route, "dependant", None)
        stack = list(dependant.dependencies) if dependant else []
        while stack:
            dep = stack.pop()
            if roles := getattr(dep.call, "roles", None):
                for method in getattr(route, "methods", ()):
                    found[(method, route.path)] = tuple(roles)  # type: ignore[attr-defined]
            stack.extend(dep.dependencies)
    return found


def seed_customer(api: Service, ingest: Service) -> None:
    phone = unique_phone()
    for day in range(1, 4):
        sent = ingest.client.post(
            "/v1/interactions",
            json=interaction(customer={"phone": phone, "name": "Фаззинг Тестович"},
                             occurred_at=f"2026-11-0{day}T10:00:00+03:00"),
            headers=ingest.headers(Role.channel),
        )
        assert sent.status_code == 202, sent.text
    agent = api.headers(Role.agent)

    def timeline() -> dict[str, Any] | None:
        found = api.client.get("/v1/customers", params={"q": phone}, headers=agent).json()["items"]
        if not found:
            return None
        api.customer_id = found[0]["id"]
        page = api.client.get(f"/v1/customers/{api.customer_id}/timeline",
                              params={"limit": 1}, headers=agent).json()
        return page if page.get("next") else None

    page = wait_until(timeline, timeout_s=60, message="seed customer with two timeline pages")
    api.cursor = page["next"]


def assert_contract(response: Any) -> None:
    """No 5xx; every 4xx in the contract's error shape."""
    status = response.status_code
    assert status < 500, f"{status} answer: {response.text[:500]}"
    if 400 <= status < 500:
        try:
            body = response.json()
        except ValueError as exc:
            raise AssertionError(f"{status} body is not JSON: {response.text[:300]!r}") from exc
        error = body.get("error") if isinstance(body, dict) else None
        assert isinstance(error, dict) and set(error) == {"code", "message"}, (
            f"{status} body not in the error shape: {body!r}"[:500]
        )
        assert isinstance(error["code"], str) and error["code"], body
        assert isinstance(error["message"], str), body


def send(service: Service, case: Any, role: Role | None) -> Any:
    """Send a generated case through the service's own client (the lifespan's event loop).

    ``role`` None keeps whatever Authorization schemathesis generated (usually a broken one).
    """
    headers = service.headers(role) if role is not None else None
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
    if headers is not None:
        kwargs["headers"] = {k: v for k, v in kwargs["headers"].items()
                             if k.lower() != "authorization"} | headers
    data = kwargs.pop("data", None)
    if isinstance(data, bytes | str):
        kwargs["content"] = data
    elif data is not None:
        kwargs["data"] = data
    kwargs.pop("auth", None)
    cookies = kwargs.pop("cookies", None)
    service.client.cookies.clear()
    if cookies:
        service.client.cookies.update(cookies)
    return service.client.request(**kwargs)
