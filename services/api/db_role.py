"""Which database role the api runs as: never one that can become a writer of the audit tables.

Preferred: the login ``kartoteka_api_login`` (migration 062), a member of the read-only
``kartoteka_api`` only, so no ``SET ROLE`` or ``RESET ROLE`` gets it back to the owner. Where
that login cannot connect (no CREATEROLE at migration, password authentication without
``KARTOTEKA_API_DB_PASSWORD``), the owner's login with ``SET ROLE kartoteka_api`` per session,
which a bug could undo: a warning says so. Else the login's own privileges, with a warning.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo

from kartoteka.settings import Settings

log = logging.getLogger(__name__)
API_ROLE = "kartoteka_api"
API_LOGIN = "kartoteka_api_login"
Configure = Callable[[psycopg.AsyncConnection[Any]], Awaitable[None]]


@dataclass(frozen=True)
class DbRole:
    """The DSN the api's pool connects with, the role its queries run as, and a per-connection
    set-up (None when the login itself is that role)."""

    dsn: str
    role: str | None
    configure: Configure | None = None


async def api_role(settings: Settings) -> DbRole:
    login = make_conninfo(settings.dsn, user=API_LOGIN, password=settings.api_db_password or "")
    try:
        async with await psycopg.AsyncConnection.connect(login, autocommit=True, connect_timeout=5) as conn:
            await conn.execute("SELECT 1")
        return DbRole(login, API_LOGIN)
    except psycopg.Error as exc:
        log.warning("api cannot log in as its own role; trying SET ROLE", extra={"error": str(exc)})
    role = await restricted_role(settings.dsn)
    return DbRole(settings.dsn, role, _set_role(role) if role else None)


async def restricted_role(dsn: str, role: str = API_ROLE) -> str | None:
    """``role`` when this login may SET ROLE to it, else None (the api then runs as the login)."""
    try:
        async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
            await conn.execute(f'SET ROLE "{role}"')
        return role
    except psycopg.Error as exc:
        log.warning("api runs with the login's privileges", extra={"role": role, "error": str(exc)})
        return None


def _set_role(role: str) -> Configure:
    async def configure(conn: psycopg.AsyncConnection[Any]) -> None:
        # Session-wide: every query of this pooled connection runs without write privileges.
        await conn.execute(f'SET ROLE "{role}"')
        await conn.commit()

    return configure
