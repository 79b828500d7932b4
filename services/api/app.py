"""Composition root of the api service."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from psycopg_pool import AsyncConnectionPool

from events import topics
from events.audit.trail import checkpoint_key
from events.work_rules import parse_outcomes, parse_sla_hours
from kartoteka import kafka
from kartoteka.http import install_error_handlers, install_operations, native_telemetry
from kartoteka.keystore import KeyRing, master_key
from kartoteka.settings import Settings
from services.api.audited_routes import install_audit_guard
from services.api.auditing import AccessAuditor
from services.api.data_keys import ApiKeys
from services.api.db_role import api_role
from services.api.pages import install_pages
from services.api.routes import (
    alerts,
    audit,
    customers,
    duplicates,
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
def create_app(settings: Settings) -> FastAPI:
    """The api app; the pool and the producer live in the lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Access events wait up to 100 ms to share a produce request (bench/README.md); a read
        # that must confirm its event flushes at once (AccessAuditor._send).
        producer = kafka.producer(settings, linger_ms=100)
        db = await api_role(settings)
        pool = AsyncConnectionPool(
            db.dsn, min_size=1, max_size=settings.db_pool_size, open=False, configure=db.configure,
            # Reads need no transaction: autocommit saves a COMMIT round trip per checkout.
            kwargs={"autocommit": True},
        )
        await pool.open()
        app.state.pool, app.state.producer, app.state.db_role = pool, producer, db.role
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
            try:
                kafka.close_producer(producer, 10)
            finally:
                await pool.close()

    app = FastAPI(title="Kartoteka api", version="1", lifespan=lifespan, telemetry=native_telemetry())
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
    for router in (customers.router, identity.router, duplicates.router, exports.router, audit.router,
                   employees.router, work.router, requests.router, tasks.router, reports.router, alerts.router,
                   privacy.router):
        app.include_router(router)
    install_pages(app)
    return app
