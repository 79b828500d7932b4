"""FastAPI's own OpenTelemetry hooks stay off in both services unless the operator switches on
FastAPI's OTLP set-up: with them on, each request asked OpenTelemetry for its providers."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from opentelemetry import metrics, trace
from opentelemetry._logs import _internal as logs

from kartoteka.http import native_telemetry
from services.api.app import create_app as api_app
from services.ingest.app import create_app as ingest_app
from tests.unit.test_ingest_routes import SETTINGS


def _provider_lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    asked: list[str] = []
    for module, name in ((trace, "get_tracer_provider"), (metrics._internal, "get_meter_provider"),
                         (logs, "get_logger_provider")):
        original = getattr(module, name)

        def counted(*args: Any, _original: Any = original, _name: str = name, **kwargs: Any) -> Any:
            asked.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)
    return asked


@pytest.mark.parametrize("create_app", [ingest_app, api_app], ids=["ingest", "api"])
def test_a_request_does_not_ask_opentelemetry_for_its_providers(
    monkeypatch: pytest.MonkeyPatch, create_app: Any
) -> None:
    monkeypatch.delenv("FASTAPI_OTEL_AUTO_CONFIGURE", raising=False)
    asked = _provider_lookups(monkeypatch)
    answer = TestClient(create_app(SETTINGS)).get("/healthz")
    assert answer.status_code == 200
    assert asked == []


def test_fastapis_otlp_switch_gives_fastapi_its_defaults_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FASTAPI_OTEL_AUTO_CONFIGURE", "true")
    assert native_telemetry() is None
    asked = _provider_lookups(monkeypatch)
    TestClient(ingest_app(SETTINGS)).get("/healthz")
    assert asked  # FastAPI looks for a configured provider on each request again

