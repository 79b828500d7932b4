"""Composition root of the api service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from psycopg_pool import AsyncConnectionPool

from events import topics
from kartoteka import kafka
from kartoteka.http import install_error_handlers, install_operations
from kartoteka.settings import Settings
from services.api.auditing import AccessAuditor
from services.api.routes import audit, customers, identity


def create_app(settings: Settings) -> FastAPI:
    """The api app; the pool and the producer live in the lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        producer = kafka.producer(settings, linger_ms=1)
        pool = AsyncConnectionPool(
            settings.dsn, min_size=1, max_size=settings.db_pool_size, open=False
        )
        await pool.open()
        app.state.pool, app.state.producer = pool, producer
        app.state.auditor = AccessAuditor(
            producer, settings.topic(topics.ACCESS), settings.audit_fail_closed
        )
        try:
            yield
        finally:
            producer.flush(10)
            producer.close(10)
            await pool.close()

    app = FastAPI(title="Kartoteka api", version="1", lifespan=lifespan)
    app.state.settings = settings

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
    install_operations(app, "api", readiness)
    app.include_router(customers.router)
    app.include_router(identity.router)
    app.include_router(audit.router)
    return app
