"""HTTP plumbing shared by the ingest and api services: errors, auth, health, metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

import psycopg
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.body_limit import RequestBodyLimitMiddleware

from kartoteka.auth import InvalidToken, Principal, Role, verify

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 8 * 1024 * 1024


class ApiError(Exception):
    """A 4xx/5xx answer in the contract's error shape."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:10]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        parts.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    """Every error leaves in one shape: {"error": {"code", "message"}}."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message), exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(error_body("invalid_request", _validation_message(exc)), 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized",
                413: "payload_too_large"}.get(
            exc.status_code, "http_error"
        )
        return JSONResponse(error_body(code, str(exc.detail)), exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        return JSONResponse(error_body("internal", "internal error"), 500)


def _has_nul(request: Request) -> bool:
    return "\x00" in request.url.path or any(
        "\x00" in key or "\x00" in value for key, value in request.query_params.multi_items()
    )


_bearer = HTTPBearer(auto_error=False)


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
Known = tuple[str, datetime, datetime]
"""An employee's status, when it takes effect, and when it was changed."""


class EmployeeStatuses:
    """Refuses employees who have left, on every route, from a short-TTL cache.

    One query every ``ttl_s`` reloads every employee who is not active (plus any this
    process changed), so a request costs a dict look-up. ``note`` applies a change this
    process accepted at once, ahead of the projection; other processes see it within
    ``ttl_s`` of the employees worker projecting it. Until the first load succeeds every
    request is refused (503): an unknown status must not let a departed employee in.
    """

    QUERY = (
        "SELECT employee_id, status, effective_at, changed_at FROM employees"
        " WHERE status <> 'active' OR employee_id = ANY(%s)"
    )

    def __init__(self, dsn: Callable[[], str], ttl_s: float = 2.0, note_ttl_s: float = 600) -> None:
        self.dsn, self.ttl_s, self.note_ttl_s = dsn, ttl_s, note_ttl_s
        self._table: dict[str, Known] | None = None
        self._notes: dict[str, tuple[Known, float]] = {}
        self._loaded_at = 0.0
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._lock = asyncio.Lock()

    async def __call__(self, principal: Principal) -> None:
        if time.monotonic() - self._loaded_at > self.ttl_s:
            await self._refresh()
        if self._table is None:
            raise ApiError(503, "status_unavailable", "employee status cannot be checked now")
        if self.has_left(principal.subject, datetime.now(UTC)):
            raise ApiError(403, "employee_left", f"employee {principal.subject} has left")

    def has_left(self, employee_id: str, now: datetime) -> bool:
        note = self._notes.get(employee_id)
        if note is not None and time.monotonic() - note[1] > self.note_ttl_s:
            del self._notes[employee_id]
            note = None
        candidates = [k for k in ((self._table or {}).get(employee_id), note and note[0]) if k]
        if not candidates:
            return False
        status, effective_at, _ = max(candidates, key=lambda k: k[2])
        return status == "left" and effective_at <= now

    def note(self, employee_id: str, status: str, effective_at: datetime, at: datetime) -> None:
        self._notes[employee_id] = ((status, effective_at, at), time.monotonic())

    async def _refresh(self) -> None:
        async with self._lock:
            if time.monotonic() - self._loaded_at <= self.ttl_s:
                return  # another request refreshed while this one waited
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = await psycopg.AsyncConnection.connect(self.dsn(), autocommit=True)
                rows = await (await self._conn.execute(self.QUERY, (list(self._notes),))).fetchall()
                self._table = {r[0]: (r[1], r[2], r[3]) for r in rows}
                self._loaded_at = time.monotonic()
            except psycopg.Error as exc:
                # Keep the last known table; without one every request is refused.
                log.warning("employee statuses not refreshed", extra={"error": str(exc)})
                await self.close()

    async def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                await self._conn.close()
            self._conn = None


def install_status_check(app: FastAPI) -> EmployeeStatuses:
    """Refuse departed employees in every ``require_roles`` route; closed with the app."""
    statuses = EmployeeStatuses(lambda: app.state.settings.dsn)
    app.state.status_check = app.state.employee_statuses = statuses
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Any]:
        async with inner(app_) as state:
            try:
                yield state
            finally:
                await statuses.close()

    app.router.lifespan_context = lifespan
    return statuses


def require_roles(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits only the given roles; each route declares its own."""

    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        principal = _principal(request, credentials)
        if principal.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise ApiError(
                403, "forbidden", f"role {principal.role.value} may not call this; needs {allowed}"
            )
        check: StatusCheck | None = getattr(request.app.state, "status_check", None)
        if check is not None:
            await check(principal)
        request.state.principal = principal
        return principal

    dependency.roles = roles  # type: ignore[attr-defined]
    return dependency


class Metrics:
    """Per-app Prometheus registry: request counts and latencies by route."""

    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests",
            ["service", "route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_seconds",
            "HTTP request latency",
            ["service", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.service = service

    def render(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


def install_operations(
    app: FastAPI, service: str, readiness: Callable[[], Awaitable[dict[str, bool]]]
) -> Metrics:
    """/healthz, /readyz, /metrics, a body-size guard, request ids and access logging."""
    metrics = Metrics(service)
    # The content-length check below answers declared sizes at once; this one also stops a
    # chunked body (no content-length) once it streams past the limit, without buffering it.
    app.add_middleware(RequestBodyLimitMiddleware, max_body_size=MAX_BODY_BYTES)
    if getattr(app.state, "status_check", None) is None:
        install_status_check(app)

    @app.middleware("http")
    async def _observe(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request.state.request_id = request.headers.get("x-request-id") or str(uuid.uuid4())
        if _has_nul(request):
            # No text column can hold U+0000: refuse it here, not as a database error (500).
            return JSONResponse(
                error_body("invalid_request", "NUL (%00) is not allowed in the path or query"), 400
            )
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            return JSONResponse(
                error_body("payload_too_large", f"body exceeds {MAX_BODY_BYTES} bytes"), 413
            )
        started = time.perf_counter()
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        metrics.requests.labels(service, route, request.method, str(response.status_code)).inc()
        metrics.latency.labels(service, route).observe(time.perf_counter() - started)
        response.headers["x-request-id"] = request.state.request_id
        return response

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
    "EmployeeStatuses",
    "install_error_handlers",
    "install_operations",
    "require_roles",
]
