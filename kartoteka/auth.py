"""Bearer tokens (HS256) and the roles of the HTTP contract."""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum

import jwt


class Role(StrEnum):
    """Roles of the HTTP contract."""

    channel = "channel"
    agent = "agent"
    supervisor = "supervisor"
    security_officer = "security_officer"
    admin = "admin"
    dpo = "dpo"  # data protection officer: erasure, legal holds and exports, nothing else


class InvalidToken(Exception):
    """The token is missing, malformed, expired or not signed by us."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's subject and role."""

    subject: str
    role: Role


_ISSUER = "kartoteka"


def mint(secret: str, subject: str, role: Role, ttl_s: int, now: float | None = None) -> str:
    issued = int(now if now is not None else time.time())
    claims = {
        "iss": _ISSUER,
        "sub": subject,
        "role": role.value,
        "iat": issued,
        "exp": issued + ttl_s,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


_VERIFIED: dict[tuple[str, str], tuple[Principal, int]] = {}
_VERIFIED_MAX = 10_000


def verify(secret: str, token: str) -> Principal:
    """The token's principal; InvalidToken when it is not ours, malformed or expired.

    A token that verified once is remembered with its expiry: its signature and claims cannot
    change, and only time can invalidate it (``iat``/``nbf`` only become more valid), so a
    repeat costs a look-up and a clock read instead of an HMAC and a JSON parse.
    """
    known = _VERIFIED.get((secret, token))
    if known is not None:
        if known[1] > time.time():
            return known[0]
        _VERIFIED.pop((secret, token), None)
        raise InvalidToken("Signature has expired")
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], issuer=_ISSUER, options={"require": ["exp", "sub"]}
        )
        subject = str(claims["sub"]).strip()
        if not subject:
            raise ValueError("token has an empty subject")
        principal = Principal(subject=subject, role=Role(claims["role"]))
        expires = claims["exp"]
    except (jwt.PyJWTError, KeyError, ValueError) as exc:
        raise InvalidToken(str(exc)) from exc
    if isinstance(expires, int) and not isinstance(expires, bool):
        if len(_VERIFIED) >= _VERIFIED_MAX:
            _VERIFIED.clear()  # bounded: many distinct tokens only cost a re-verification
        _VERIFIED[(secret, token)] = (principal, expires)
    return principal
