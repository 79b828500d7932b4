"""Page sessions: a signed cookie standing for the bearer token that signed in, and CSRF.

The cookie is a short JWT signed with the token secret (subject, role, a CSRF secret and an
expiry no later than the token's own), so every api process accepts it without shared state.
Each page request runs the same role check and leaver check as a bearer request: a departed
employee's session is refused at once, like their token.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import jwt
from fastapi import Request

from kartoteka.auth import Principal, Role, verify
from kartoteka.http import ApiError, StatusCheck

COOKIE = "kartoteka_session"
LOGIN_CSRF_COOKIE = "kartoteka_login_csrf"
LANG_COOKIE = "kartoteka_lang"
SESSION_TTL_S = 10 * 3600  # a working shift; the token's own expiry wins when sooner
_AUDIENCE = "kartoteka-pages"


@dataclass(frozen=True)
class Session:
    """Who signed in, their CSRF secret, and when the session ends (epoch seconds)."""

    principal: Principal
    csrf: str
    expires: int


class SignInRequired(Exception):
    """No valid session: a page answers with the sign-in form (a form post with 403)."""


def open_session(secret: str, token: str, now: float | None = None) -> tuple[Session, str]:
    """A session for a valid bearer token, and its cookie value; InvalidToken otherwise."""
    principal = verify(secret, token)
    issued = int(now if now is not None else time.time())
    token_expires = jwt.decode(token, options={"verify_signature": False}).get("exp", issued)
    expires = min(issued + SESSION_TTL_S, int(token_expires))
    session = Session(principal, secrets.token_urlsafe(24), expires)
    claims = {"sub": principal.subject, "role": principal.role.value, "csrf": session.csrf,
              "aud": _AUDIENCE, "iat": issued, "exp": expires}
    return session, jwt.encode(claims, secret, algorithm="HS256")


def read_session(secret: str, cookie: str | None) -> Session | None:
    """The session a cookie stands for, or None (missing, forged, expired)."""
    if not cookie:
        return None
    try:
        claims = jwt.decode(cookie, secret, algorithms=["HS256"], audience=_AUDIENCE,
                            options={"require": ["exp", "sub", "csrf"]})
        return Session(Principal(str(claims["sub"]), Role(claims["role"])), str(claims["csrf"]),
                       int(claims["exp"]))
    except (jwt.PyJWTError, KeyError, ValueError):
        return None


def cookie_flags(request: Request) -> dict[str, object]:
    """HttpOnly and SameSite=Strict always; Secure whenever the page was served over HTTPS."""
    secure = request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"
    return {"httponly": True, "samesite": "strict", "secure": secure, "path": "/"}


async def page_session(request: Request, roles: tuple[Role, ...]) -> Session:
    """The signed-in session of a page request, with the API's role and leaver checks."""
    session = read_session(request.app.state.settings.secret, request.cookies.get(COOKIE))
    if session is None:
        raise SignInRequired()
    if session.principal.role not in roles:
        raise ApiError(403, "forbidden", f"role {session.principal.role.value} may not open this page")
    check: StatusCheck | None = getattr(request.app.state, "status_check", None)
    if check is not None:
        await check(session.principal)
    request.state.principal = session.principal
    return session


def same_origin(request: Request) -> bool:
    """A form post must come from this site: Origin (or Referer) naming this host, and no
    browser-declared cross-site fetch."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return False
    source = request.headers.get("origin") or request.headers.get("referer")
    if source is None or source == "null":
        return source is None  # no header at all: a non-browser client, judged by the token
    parts = urlsplit(source)
    host = request.headers.get("host", "")
    return parts.netloc == host


def check_post(request: Request, expected: str | None, given: str | None) -> None:
    """403 for a form post from another origin or without the session's CSRF token."""
    if not same_origin(request):
        raise ApiError(403, "cross_origin", "form posts must come from this site")
    given = given or request.headers.get("x-csrf-token")
    if not expected or not given or not hmac.compare_digest(expected, given):
        raise ApiError(403, "csrf", "missing or wrong CSRF token")

