"""The page tests' world: one Chromium and one running stack (api served by uvicorn as a real
process, the workers in threads, ingest in-process) for the whole browser session."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from selenium import webdriver

from kartoteka.auth import Role, mint
from kartoteka.settings import Settings
from tests.support.browser import screenshot, start_browser
from tests.support.infra import Infra
from tests.support.served import served
from tests.support.workers import running

WORKERS = ("resolver", "relay", "timeline", "work", "audit", "alerts", "employees", "duplicates")


@dataclass
class Site:
    """The served api's URL and the means to put data into the stack."""

    url: str
    settings: Settings
    ingest: TestClient

    def token(self, role: str, subject: str) -> str:
        return mint(self.settings.secret, subject, Role(role), 3600)

    def headers(self, role: str, subject: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, subject)}"}

    def api(self, method: str, path: str, role: str = "agent", subject: str = "emp-poller",
            **kwargs: Any) -> httpx.Response:
        return httpx.request(method, self.url + path, headers=self.headers(role, subject), timeout=10,
                             **kwargs)


@pytest.fixture(scope="session")
def site(infra: Infra) -> Iterator[Site]:
    from services.ingest.app import create_app

    settings = infra.new_settings()
    with running(settings, WORKERS), served(settings, "api", 1) as (_, url), \
            TestClient(create_app(settings)) as ingest:
        yield Site(url, settings, ingest)


@pytest.fixture(scope="session")
def chromium() -> Iterator[webdriver.Chrome]:
    driver = start_browser()
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def browser(chromium: webdriver.Chrome, site: Site, request: pytest.FixtureRequest
            ) -> Iterator[webdriver.Chrome]:
    """The session's browser with no cookies of earlier tests; a screenshot after each test."""
    chromium.get(site.url + "/login")
    chromium.delete_all_cookies()
    yield chromium
    screenshot(chromium, request.node.name)
