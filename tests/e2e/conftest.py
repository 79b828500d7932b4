"""Module fixtures of the fuzzing tests: each module gets its own database and running pipeline."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from kartoteka.settings import Settings
from services.api.app import create_app as create_api
from services.ingest.app import create_app as create_ingest
from tests.support.fuzzing import PIPELINE, Service, seed_customer
from tests.support.infra import Infra
from tests.support.workers import running


@pytest.fixture(scope="module")
def fuzz_settings(infra: Infra) -> Iterator[Settings]:
    """One database for the module, with the pipeline running throughout: whatever the fuzzer
    gets acknowledged must also pass the workers (``running`` fails if one of them died)."""
    settings_ = infra.new_settings()
    with running(settings_, PIPELINE):
        yield settings_


@pytest.fixture(scope="module")
def ingest_service(fuzz_settings: Settings) -> Iterator[Service]:
    app = create_ingest(fuzz_settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Service(app, client, fuzz_settings)


@pytest.fixture(scope="module")
def api_service(fuzz_settings: Settings, ingest_service: Service) -> Iterator[Service]:
    """The api over a database holding one real customer, so ids and cursors can be real too."""
    app = create_api(fuzz_settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        service = Service(app, client, fuzz_settings)
        seed_customer(service, ingest_service)
        yield service
