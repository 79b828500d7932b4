"""What every page shares: the session dependencies per role, the HTML error pages, and the
form check (same origin + CSRF) in front of each post."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from kartoteka.auth import Role
from kartoteka.http import ApiError, error_body
from services.api.pages.render import page
from services.api.pages.session import Session, SignInRequired, check_post, page_session

PAGE_PREFIXES = ("/desk", "/console", "/login", "/logout")


def _session_of(*roles: Role):  # type: ignore[no-untyped-def]
    async def dependency(request: Request) -> Session:
        return await page_session(request, roles)

    dependency.roles = roles  # type: ignore[attr-defined]
    return dependency


AgentSession = Annotated[Session, Depends(_session_of(Role.agent, Role.supervisor))]
OfficerSession = Annotated[Session, Depends(_session_of(Role.security_officer))]
SupervisorSession = Annotated[Session, Depends(_session_of(Role.supervisor))]
Csrf = Annotated[str, Form(max_length=200)]


def checked(request: Request, session: Session, csrf: str | None) -> None:
    """Refuse (403) a form post from another origin or without this session's CSRF token."""
    check_post(request, session.csrf, csrf)


def install_page_errors(app: FastAPI) -> None:
    """Pages answer errors as HTML (sign-in redirect, 403, 404), the JSON API as before."""
    json_api_error = app.exception_handlers.get(ApiError)
    json_invalid = app.exception_handlers.get(RequestValidationError)

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, _: SignInRequired) -> Response:
        if request.method == "GET" and request.headers.get("accept", "") != "text/event-stream":
            return RedirectResponse("/login", 303)
        return _error_page(request, 403, "forbidden")

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        if request.url.path.startswith(PAGE_PREFIXES):
            return _error_page(request, exc.status, exc.code, exc.message)
        assert json_api_error is not None
        return await json_api_error(request, exc)  # type: ignore[no-any-return, misc]

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if request.url.path.startswith(PAGE_PREFIXES):
            return _error_page(request, 422, "invalid_request", str(exc.errors()[:3]))
        if json_invalid is not None:
            return await json_invalid(request, exc)  # type: ignore[no-any-return, misc]
        return JSONResponse(error_body("invalid_request", "invalid request"), 422)


def _error_page(request: Request, status: int, code: str, message: str = "") -> HTMLResponse:
    key = {403: "forbidden", 404: "not_found", 410: "gone"}.get(status, "error")
    return page(request, "error.html", None, status=status, key=key, code=code, message=message)
