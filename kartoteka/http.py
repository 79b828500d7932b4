"""HTTP plumbing shared by the ingest and api services: errors, auth, health, metrics."""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.telemetry import TelemetryConfig
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.middleware.body_limit import RequestBodyLimitResponder
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kartoteka.auth import InvalidToken, Principal, Role, verify
from kartoteka.employee_status import EmployeeStatuses, install_status_check
from kartoteka.http_errors import ApiError, error_body, install_error_handlers

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 8 * 1024 * 1024


def _has_nul(request: Request) -> bool:
    return "\x00" in request.url.path or any(
        "\x00" in key or "\x00" in value for key, value in request.query_params.multi_items()
    )


def _principal(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(401, "unauthorized", "missing bearer token", {"WWW-Authenticate": "Bearer"})
    try:
        return verify(request.app.state.settings.secret, credentials.credentials)
    except InvalidToken as exc:
        raise ApiError(
            401, "unauthorized", f"invalid token: {exc}", {"WWW-Authenticate": "Bearer"}
        ) from exc


StatusCheck = Callable[[Principal], Awaitable[None]]


class RoleGuard(HTTPBearer):
    """The bearer scheme and a route's roles in one dependency.

    FastAPI solves every dependency level with its own pass over the request (a Response, the
    query, the headers, the cookies): a role check depending on ``HTTPBearer`` was two levels,
    and solving them was a quarter of a single delivery's framework CPU. Being the scheme itself,
    it is one level, and the OpenAPI document still names the same ``HTTPBearer`` scheme.
    """

    def __init__(self, roles: tuple[Role, ...]) -> None:
        super().__init__(auto_error=False, scheme_name="HTTPBearer")
        self.roles = roles

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        principal = _principal(request, await super().__call__(request))
        if principal.role not in self.roles:
            allowed = ", ".join(r.value for r in self.roles)
            raise ApiError(
                403, "forbidden", f"role {principal.role.value} may not call this; needs {allowed}"
            )
        check: StatusCheck | None = getattr(request.app.state, "status_check", None)
        if check is not None:
            await check(principal)
        request.state.principal = principal
        return principal


def require_roles(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits only the given roles; each route declares its own."""
    return RoleGuard(roles)


def native_telemetry() -> TelemetryConfig | None:
    """FastAPI's own OpenTelemetry hooks: off, unless the operator has FastAPI set up OTLP export
    (``FASTAPI_OTEL_AUTO_CONFIGURE=true``, FastAPI's own switch; None keeps its defaults).

    The services report through ``/metrics`` and their logs, and ship no OpenTelemetry SDK. With
    the hooks on, every request asked OpenTelemetry for its three global providers (reading the
    environment each time) to find none: ~10 us of a single delivery's ~215 in process.
    """
    if os.getenv("FASTAPI_OTEL_AUTO_CONFIGURE", "").lower() == "true":
        return None
    return {"tracing": False, "metrics": False, "logs": False}


# A request's and a flush's durations: 1 ms to 5 s.
SECONDS_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


class Metrics:
    """Per-process Prometheus registry: request counts and latencies by route.

    Every series carries the process id: a service runs several uvicorn worker processes,
    a scrape reaches one of them, and counters of different processes under one series would
    look like resets. Sum over ``process`` for the service's figures.
    """

    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests",
            ["service", "process", "route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_seconds",
            "HTTP request latency",
            ["service", "process", "route"],
            registry=self.registry,
            buckets=SECONDS_BUCKETS,
        )
        # Where a delivery's settling waits (ingest): the duplicate check with its data keys in
        # PostgreSQL, sealing, and Kafka's acknowledgement; a slow ingest shows which one.
        self.flush_stages = Histogram(
            "ingest_flush_stage_seconds",
            "Seconds a flush of deliveries spent per stage: keys (PostgreSQL), seal, produce (until acked)",
            ["service", "process", "stage"],
            registry=self.registry,
            buckets=SECONDS_BUCKETS,
        )
        self.service = service
        self.process = str(os.getpid())

    def flush_stage(self, stage: str) -> Histogram:
        return self.flush_stages.labels(self.service, self.process, stage)  # type: ignore[no-any-return]

    def render(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class ObserveMiddleware:
    """Request ids, NUL and body-size refusals, metrics by route template: plain ASGI.

    A ``BaseHTTPMiddleware`` costs a task group and memory streams per request, a large part
    of a cheap read's CPU; this only wraps ``send``.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics, limits: dict[str, int] | None = None) -> None:
        self.app, self.metrics = app, metrics
        self.limits = limits or {}
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope["headers"]
        request_id = _header(headers, b"x-request-id") or str(uuid.uuid4())
        scope.setdefault("state", {})["request_id"] = request_id
        query = scope.get("query_string", b"")
        if "\x00" in scope["path"] or b"%00" in query or b"\x00" in query:
            # No text column can hold U+0000: refuse it here, not as a database error (500).
            response = JSONResponse(
                error_body("invalid_request", "NUL (%00) is not allowed in the path or query"), 400
            )
            await response(scope, receive, send)
            return
        length = _header(headers, b"content-length")
        limit = self.limits.get(scope["path"], MAX_BODY_BYTES)
        if length is not None and (not length.isdigit() or int(length) > limit):
            response = JSONResponse(
                error_body("payload_too_large", f"body exceeds {limit} bytes"), 413
            )
            await response(scope, receive, send)
            return
        started = time.perf_counter()
        tag = (b"x-request-id", request_id.encode("latin-1"))

        async def observed(message: Message) -> None:
            if message["type"] == "http.response.start":
                route = getattr(scope.get("route"), "path", "unmatched")
                self._observe(route, scope["method"], message["status"], started)
                message["headers"] = [
                    *(h for h in message.get("headers", ()) if h[0].lower() != b"x-request-id"),
                    tag,
                ]
            await send(message)

        await self.app(scope, receive, observed)

    def _observe(self, route: str, method: str, status: int, started: float) -> None:
        # labels() resolves its child under a lock each time; keep the children per key.
        key = (route, method, status)
        children = self._children.get(key)
        if children is None:
            m = self.metrics
            children = (m.requests.labels(m.service, m.process, route, method, str(status)),
                        m.latency.labels(m.service, m.process, route))
            self._children[key] = children
        children[0].inc()
        children[1].observe(time.perf_counter() - started)


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class PathBodyLimit:
    """Starlette's body limit, per path: a route may take more than ``MAX_BODY_BYTES`` (raw mail)."""

    def __init__(self, app: ASGIApp, limits: dict[str, int]) -> None:
        self.app, self.limits = app, limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.get(scope["path"], MAX_BODY_BYTES)
        await RequestBodyLimitResponder(self.app, limit)(scope, receive, send)


def install_operations(
    app: FastAPI, service: str, readiness: Callable[[], Awaitable[dict[str, bool]]],
    body_limits: dict[str, int] | None = None,
) -> Metrics:
    """/healthz, /readyz, /metrics, a body-size guard, request ids and access logging."""
    metrics = Metrics(service)
    # The content-length check below answers declared sizes at once; this one also stops a
    # chunked body (no content-length) once it streams past the limit, without buffering it.
    app.add_middleware(PathBodyLimit, limits=body_limits or {})
    if getattr(app.state, "status_check", None) is None:
        install_status_check(app)

    app.add_middleware(ObserveMiddleware, metrics=metrics, limits=body_limits)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        checks = await readiness()
        ok = all(checks.values())
        return JSONResponse({"ready": ok, "checks": checks}, 200 if ok else 503)

    @app.get("/metrics", include_in_schema=False)
    async def metrics_endpoint() -> Response:
        return metrics.render()

    app.state.metrics = metrics
    return metrics


__all__ = [
    "ApiError",
    "error_body",
    "EmployeeStatuses",
    "install_error_handlers",
    "install_operations",
    "require_roles",
]
