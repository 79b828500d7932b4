"""Composition root of the ingest service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from psycopg_pool import AsyncConnectionPool

from events import topics
from kartoteka import kafka
from kartoteka.http import install_error_handlers, install_operations, native_telemetry
from kartoteka.keystore import KeyRing, master_key
from kartoteka.settings import Settings
from services.ingest import channel_routes
from services.ingest.coalescer import Coalescer
from services.ingest.publisher import KafkaPublisher
from services.ingest.receipts import Receipts
from services.ingest.routes import router
from services.ingest.service import Publisher, ReceiptBook, settle


def create_app(settings: Settings) -> FastAPI:
    """The ingest app; connections open in the lifespan, never at import."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        producer = kafka.producer(settings)
        # Autocommit: each of ingest's statements stands alone, and an implicit BEGIN and COMMIT
        # around it were two more round trips per delivery (single ones wait for every one).
        pool = AsyncConnectionPool(
            settings.dsn, min_size=1, max_size=settings.db_pool_size, open=False,
            kwargs={"autocommit": True},
        )
        await pool.open()
        ring = KeyRing(master_key(settings))
        stages = app.state.metrics.flush_stage
        attach(app, KafkaPublisher(producer, pool, ring, settings.topic(topics.INTERACTIONS),
                                   lambda stage, seconds: stages(stage).observe(seconds)), Receipts(),
               settings.ingest_linger_ms)
        app.state.producer = producer
        try:
            yield
        finally:
            try:
                kafka.close_producer(producer, 10)
            finally:
                await pool.close()

    app = FastAPI(title="Kartoteka ingest", version="1", lifespan=lifespan, telemetry=native_telemetry())
    app.state.settings = settings

    async def readiness() -> dict[str, bool]:
        return {
            "kafka": await kafka.producer_ready(
                app.state.producer, settings.topic(topics.INTERACTIONS)
            ),
            "postgres": await _db_ok(app.state.publisher.pool),
        }

    install_error_handlers(app)
    install_operations(app, "ingest", readiness, channel_routes.body_limits(settings))
    app.include_router(router)
    channel_routes.install(app, settings)
    return app


def attach(app: FastAPI, publisher: Publisher, receipts: ReceiptBook, linger_ms: float = 0.0) -> None:
    """The ports the routes settle through; single deliveries share flushes (``Coalescer``)."""
    app.state.publisher, app.state.receipts = publisher, receipts
    app.state.coalescer = Coalescer(lambda outcomes: settle(outcomes, publisher, receipts),
                                    linger_s=linger_ms / 1000)


async def _db_ok(pool: AsyncConnectionPool) -> bool:
    try:
        async with pool.connection(timeout=2) as conn:
            await conn.execute("SELECT 1")
        return True
    except Exception:
        return False
