"""The api as a real process with several uvicorn workers: a departure is refused by all at once."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from kartoteka.auth import Role, mint
from kartoteka.settings import Settings
from tests.support.served import served

pytestmark = pytest.mark.integration


def _call(url: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET", headers={
        "Authorization": f"Bearer {token}", "content-type": "application/json",
        "connection": "close",  # a new connection each time: any worker may take it
    })
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as answer:
        return answer.code, json.loads(answer.read())


@pytest.fixture
def api_url(settings: Settings):  # type: ignore[no-untyped-def]
    with served(settings, "api", workers=3) as (_, url):
        yield url


def test_an_employee_who_left_is_refused_by_every_worker_process_at_once(api_url, settings):
    agent = mint(settings.secret, "emp-leaving", Role.agent, 600)
    admin = mint(settings.secret, "adm-1", Role.admin, 600)
    search = f"{api_url}/v1/customers?q=%2B79123456789"
    for _ in range(6):
        assert _call(search, agent)[0] == 200
    status, _ = _call(f"{api_url}/v1/employees/emp-leaving/status", admin, {"status": "left"})
    assert status == 202
    # No employees worker runs here: only the worker that took the change knows it from the
    # database's point of view; every other one must learn it before its next answer.
    answers = [_call(search, agent) for _ in range(24)]
    assert {(code, body.get("error", {}).get("code")) for code, body in answers} == {(403, "employee_left")}
