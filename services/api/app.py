"""Composition root of the api service."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from fastapi import FastAPI
from psycopg_pool import AsyncConnectionPool

from events import topics
from events.audit.trail import checkpoint_key
from events.work_rules import parse_outcomes, parse_sla_hours
from kartoteka import kafka
from kartoteka.http import install_error_handlers, install_operations
from kartoteka.keystore import KeyRing, master_key
from kartoteka.settings import Settings
from services.api.audited_routes import install_audit_guard
from services.api.auditing import AccessAuditor
from services.api.data_keys import ApiKeys
from services.api.routes import (
    audit,
    customers,
    employees,
    exports,
    identity,
    privacy,
    reports,
    requests,
    tasks,
    work,
)

log = logging.getLogger(__name__)
API_ROLE = "kartoteka_api"


async def restricted_role(dsn: str, role: str = API_ROLE) -> str | None:
    """``role`` when this login may SET ROLE to it, else None (the role could not be created
    where the migrating user lacked CREATEROLE; the api then runs as the login itself)."""
    try:
        async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
            await conn.execute(f'SET ROLE "{role}"')
        return role
    except psycopg.Error as exc:
        log.warning("api runs with the login's privileges", extra={"role": role, "error": str(exc)})
        return None


def _set_role(role: str) -> Callable[[psycopg.AsyncConnection[Any]], Awaitable[None]]:
    async def configure(conn: psycopg.AsyncConnection[Any]) -> None:
        # Session-wide: every query of this pooled connection runs without write privileges.
        await conn.execute(f'SET ROLE "{role}"')
        await conn.commit()

    return configure


def create_app(settings: Settings) -> FastAPI:
    """The api app; the pool and the producer live in the lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Access events wait up to 100 ms to share a produce request (bench/README.md); a read
        # that must confirm its event flushes at once (AccessAuditor._send).
        producer = kafka.producer(settings, linger_ms=100)
        role = await restricted_role(settings.dsn)
        pool = AsyncConnectionPool(
            settings.dsn, min_size=1, max_size=settings.db_pool_size, open=False,
            configure=_set_role(role) if role else None,
            # Reads need no transaction: autocommit saves a COMMIT round trip per checkout.
            kwargs={"autocommit": True},
        )
        await pool.open()
        app.state.pool, app.state.producer, app.state.db_role = pool, producer, role
        app.state.keys = await ApiKeys.open(KeyRing(master_key(settings)), pool, settings.dsn)
        app.state.auditor = AccessAuditor(
            producer, settings.topic(topics.ACCESS), settings.audit_fail_closed,
            seal=app.state.keys.seal_audit,
        )
        app.state.checkpoint_key = checkpoint_key(settings.secret)
        # Fetch the topic's metadata now: the first audited read must not wait for it.
        await kafka.producer_ready(producer, settings.topic(topics.ACCESS), timeout_s=5)
        try:
            yield
        finally:
            producer.flush(10)
            producer.close(10)
            await pool.close()

    app = FastAPI(title="Kartoteka api", version="1", lifespan=lifespan)
    app.state.settings = settings
    # Parsed once: a bad setting stops the api at start rather than failing a write later.
    app.state.work_outcomes = parse_outcomes(settings.work_outcomes)
    app.state.sla_hours = parse_sla_hours(settings.work_sla_hours)

    async def readiness() -> dict[str, bool]:
        try:
            async with app.state.pool.connection(timeout=2) as conn:
                await conn.execute("SELECT 1")
            db_ok = True
        except Exception:
            db_ok = False
        return {
            "kafka": await kafka.producer_ready(app.state.producer, settings.topic(topics.ACCESS)),
            "postgres": db_ok,
        }

    install_error_handlers(app)
    install_audit_guard(app)  # inside the operations middleware: metrics see its 500s
    install_operations(app, "api", readiness)
    for router in (customers.router, identity.router, exports.router, audit.router, employees.router,
                   work.router, requests.router, tasks.router, reports.router, privacy.router):
        app.include_router(router)
    return app
