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


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """Under ``pytest -n`` a module's tests stay on one worker, so module-scoped stacks start
    once, and the page tests share one browser and one served site.

    xdist's own ``--dist loadgroup`` cannot do this with pytest 9: it tags groups by rewriting
    ``item._nodeid``, which pytest 9 no longer reads, so every test became its own unit.
    """
    from xdist.scheduler import LoadScopeScheduling

    class ModuleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return "tests/browser" if module.startswith("tests/browser/") else module

    return ModuleScheduling(config, log)  # type: ignore[arg-type]
