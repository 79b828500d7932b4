"""Helpers for the agent's-work tests: a customer through the real pipeline, polling the api."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.support.data import interaction, unique_phone
from tests.support.workers import wait_until

WORK_WORKERS = ("resolver", "relay", "timeline", "work", "audit")


def customer_through_pipeline(ingest: TestClient, api: TestClient, auth: Callable[..., dict[str, str]],
                              **overrides: Any) -> tuple[str, dict[str, Any]]:
    """Ingest one interaction and wait until its customer is searchable; (customer id, interaction)."""
    phone = unique_phone()
    item = interaction(customer={"phone": phone, "name": "Ирина Петрова"}, **overrides)
    answer = ingest.post("/v1/interactions", json=item, headers=auth("channel", "tel"))
    assert answer.status_code == 202, answer.text
    item["id"] = answer.json()["id"]

    def found() -> list[dict[str, Any]]:
        got = api.get("/v1/customers", params={"q": phone}, headers=auth("agent", "emp-poller"))
        return got.json()["items"]

    return wait_until(found, message=f"customer {phone} searchable")[0]["id"], item


def card_until(api: TestClient, auth: Callable[..., dict[str, str]], customer_id: str,
               check: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
    """The card once ``check`` holds (the work projection applies writes shortly after the 202)."""

    def read() -> dict[str, Any] | None:
        card = api.get(f"/v1/customers/{customer_id}", headers=auth("agent", "emp-poller")).json()
        return card if check(card) else None

    return wait_until(read, message=what)


def listed(api: TestClient, auth: Callable[..., dict[str, str]], path: str, params: dict[str, Any],
           check: Callable[[list[dict[str, Any]]], bool], what: str,
           who: tuple[str, str] = ("supervisor", "sup-poller"), key: str = "items") -> list[dict[str, Any]]:
    """A list endpoint's items once ``check`` holds."""

    def read() -> list[dict[str, Any]] | None:
        answer = api.get(path, params=params, headers=auth(*who))
        assert answer.status_code == 200, answer.text
        items = answer.json()[key]
        return items if check(items) else None

    return wait_until(read, message=what)


def access_actions(api: TestClient, auth: Callable[..., dict[str, str]], employee_id: str,
                   expect: set[str]) -> list[dict[str, Any]]:
    """The employee's access records once every action in ``expect`` is among them."""

    def read() -> list[dict[str, Any]] | None:
        answer = api.get("/v1/audit/access", params={"employee_id": employee_id, "limit": 500},
                         headers=auth("security_officer", "sec-officer"))
        items = answer.json()["items"]
        return items if expect <= {i["action"] for i in items} else None

    return wait_until(read, message=f"access records {sorted(expect)} of {employee_id}")
