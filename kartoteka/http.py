"""HTTP plumbing shared by the ingest and api services: errors, auth, health, metrics."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
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
from starlette.middleware.body_limit import RequestBodyLimitResponder
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
    process accepted at once, ahead of the projection, and appends it to ``shared`` (a file
    in the data dir): every process of this host (the uvicorn workers of the api, ingest)
    reads the file when it grew, before its next check, so a departure is refused at once
    by all of them. Other hosts see it within ``ttl_s`` of the employees worker projecting
    it. Until the first load succeeds every request is refused (503): an unknown status
    must not let a departed employee in.
    """

    QUERY = (
        "SELECT employee_id, status, effective_at, changed_at FROM employees"
        " WHERE status <> 'active' OR employee_id = ANY(%s)"
    )

    def __init__(
        self,
        dsn: Callable[[], str],
        ttl_s: float = 2.0,
        note_ttl_s: float = 600,
        shared: Path | None = None,
    ) -> None:
        self.dsn, self.ttl_s, self.note_ttl_s = dsn, ttl_s, note_ttl_s
        self.shared = shared
        self._table: dict[str, Known] | None = None
        self._notes: dict[str, tuple[Known, float]] = {}
        self._loaded_at = 0.0
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._lock = asyncio.Lock()
        self._shared_at = (0, 0)  # (inode, bytes read) of the shared notes file
        if shared is not None:
            # Present from the start: a stat that fails raises, on every request.
            with contextlib.suppress(OSError):
                shared.parent.mkdir(parents=True, exist_ok=True)
                shared.touch(mode=0o600, exist_ok=True)

    async def __call__(self, principal: Principal) -> None:
        if time.monotonic() - self._loaded_at > self.ttl_s:
            await self._refresh()
        if self.shared is not None:
            self._read_shared()
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
        self._note(employee_id, (status, effective_at, at), time.monotonic())
        if self.shared is not None:
            line = json.dumps({"employee_id": employee_id, "status": status, "wall": time.time(),
                               "effective_at": effective_at.isoformat(), "at": at.isoformat()})
            self.shared.parent.mkdir(parents=True, exist_ok=True)
            # One O_APPEND write of a whole line: readers never see half of it interleaved.
            fd = os.open(self.shared, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, (line + "\n").encode())
            finally:
                os.close(fd)

    def _note(self, employee_id: str, known: Known, noted: float) -> None:
        kept = self._notes.get(employee_id)
        if kept is None or kept[0][2] <= known[2]:
            self._notes[employee_id] = (known, noted)

    def _read_shared(self) -> None:
        """Apply the notes other processes appended since the last look (a stat per request)."""
        assert self.shared is not None
        try:
            stat = os.stat(self.shared)
        except FileNotFoundError:
            return
        inode, done = self._shared_at
        if stat.st_ino != inode or stat.st_size < done:
            done = 0  # a new file
        if stat.st_size == done:
            return
        with open(self.shared, "rb") as notes:
            notes.seek(done)
            chunk = notes.read(stat.st_size - done)
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self._shared_at = (stat.st_ino, done + len(complete))
        now_wall, now_mono = time.time(), time.monotonic()
        for line in complete.splitlines():
            try:
                n = json.loads(line)
                known = (str(n["status"]), datetime.fromisoformat(n["effective_at"]),
                         datetime.fromisoformat(n["at"]))
                age = now_wall - float(n["wall"])
            except (ValueError, KeyError, TypeError):
                log.warning("unreadable employee status note skipped", extra={"line": line[:200]})
                continue
            if age <= self.note_ttl_s:
                self._note(str(n["employee_id"]), known, now_mono - max(age, 0.0))

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
    settings = getattr(app.state, "settings", None)
    shared = (
        settings.data_dir / "run" / f"{settings.topic_prefix}employee-status-notes.jsonl"
        if settings is not None else None
    )
    statuses = EmployeeStatuses(lambda: app.state.settings.dsn, shared=shared)
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
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.service = service
        self.process = str(os.getpid())

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
    "EmployeeStatuses",
    "install_error_handlers",
    "install_operations",
    "require_roles",
]
