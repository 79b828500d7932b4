"""Sign-in and sign-out: the bearer token typed once, a session cookie afterwards."""

from __future__ import annotations

import secrets
import time
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kartoteka.auth import InvalidToken, Role
from kartoteka.http import ApiError, StatusCheck
from services.api.pages.render import page
from services.api.pages.session import (
    COOKIE,
    LOGIN_CSRF_COOKIE,
    check_post,
    cookie_flags,
    open_session,
    read_session,
)

router = APIRouter(include_in_schema=False)
HOME = {Role.agent: "/desk", Role.supervisor: "/desk", Role.security_officer: "/console"}


@router.get("/login")
async def login_form(request: Request) -> HTMLResponse:
    """The sign-in form (one field, ``token``) with a CSRF token bound to a cookie."""
    csrf = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = page(request, "login.html", None, login_csrf=csrf, failed=None)
    response.set_cookie(LOGIN_CSRF_COOKIE, csrf, max_age=3600, **cookie_flags(request))  # type: ignore[arg-type]
    return response


@router.post("/login", response_model=None)
async def login(request: Request, token: Annotated[str, Form(max_length=4000)] = "",
                csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Check the token like a bearer request, set the session, go to the person's page (303)."""
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    check_post(request, expected, csrf)
    settings = request.app.state.settings
    try:
        session, cookie = open_session(settings.secret, token.strip())
        if session.principal.role not in HOME:
            raise InvalidToken("role has no page")
        check: StatusCheck | None = getattr(request.app.state, "status_check", None)
        if check is not None:
            await check(session.principal)
    except (InvalidToken, ApiError) as exc:
        failed = "left" if isinstance(exc, ApiError) and exc.code == "employee_left" else "bad_token"
        return page(request, "login.html", None, status=401 if failed == "bad_token" else 403,
                    login_csrf=expected, failed=failed)
    response = RedirectResponse(HOME[session.principal.role], 303)
    response.set_cookie(COOKIE, cookie, max_age=session.expires - int(time.time()), **cookie_flags(request))  # type: ignore[arg-type]
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout")
async def logout(request: Request, csrf: Annotated[str, Form(max_length=200)] = "") -> RedirectResponse:
    """End the session (the cookie is dropped) and show the sign-in form."""
    session = read_session(request.app.state.settings.secret, request.cookies.get(COOKIE))
    check_post(request, session.csrf if session else None, csrf)
    response = RedirectResponse("/login", 303)
    response.delete_cookie(COOKIE, path="/")
    return response

