"""Fixtures: the real embedded PostgreSQL and Tansu, shared by the session; data unique per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from kartoteka.auth import Role, mint
from kartoteka.settings import Settings
from tests.support import infra as infra_module
from tests.support.infra import Infra


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    started = infra_module.start()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def settings(infra: Infra) -> Settings:
    return infra.new_settings()


@pytest.fixture
def token(settings: Settings) -> Callable[[Role | str, str], str]:
    def make(role: Role | str, subject: str = "emp-42") -> str:
        return mint(settings.secret, subject, Role(role), 3600)

    return make


@pytest.fixture
def auth(token: Callable[[Role | str, str], str]) -> Callable[..., dict[str, str]]:
    def headers(role: Role | str, subject: str = "emp-42") -> dict[str, str]:
        return {"Authorization": f"Bearer {token(role, subject)}"}

    return headers


@pytest.fixture
def ingest(settings: Settings) -> Iterator[TestClient]:
    from services.ingest.app import create_app

    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def api(settings: Settings) -> Iterator[TestClient]:
    from services.api.app import create_app

    with TestClient(create_app(settings)) as client:
        yield client


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under ``pytest -n`` (xdist, ``--dist loadgroup``) a module's tests stay on one worker, so
    module-scoped stacks start once; the page tests share one browser and one served site."""
    for item in items:
        path = item.path.as_posix()
        group = "browser" if "/tests/browser/" in path else item.nodeid.split("::", 1)[0]
        item.add_marker(pytest.mark.xdist_group(group))
