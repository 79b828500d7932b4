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


def verify(secret: str, token: str) -> Principal:
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], issuer=_ISSUER, options={"require": ["exp", "sub"]}
        )
        subject = str(claims["sub"]).strip()
        if not subject:
            raise ValueError("token has an empty subject")
        return Principal(subject=subject, role=Role(claims["role"]))
    except (jwt.PyJWTError, KeyError, ValueError) as exc:
        raise InvalidToken(str(exc)) from exc
