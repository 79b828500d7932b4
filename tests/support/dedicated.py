"""Dedicated PostgreSQL and broker servers that a fault test may stop and start without
disturbing the shared ones, and settings for a test on them."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kartoteka import kafka
from kartoteka.embedded import EmbeddedBroker, EmbeddedPostgres, free_port
from kartoteka.migrate import migrate
from kartoteka.settings import Settings


def settings_for(root: Path, database_url: str, bootstrap: str) -> Settings:
    """Settings of one test on its own servers (what ``Infra.new_settings`` does on shared ones)."""
    name = f"f_{uuid.uuid4().hex[:12]}"
    data_dir = root / name
    data_dir.mkdir(parents=True)
    settings = Settings(
        database_url=database_url,
        kafka_bootstrap_servers=bootstrap,
        topic_prefix=f"{name}.",
        data_dir=data_dir,
        token_secret="test-secret-for-hs256-signing-" + name,
        partitions=4,
    )
    kafka.ensure_topics(settings)
    return settings


@contextmanager
def dedicated_postgres(root: Path) -> Iterator[EmbeddedPostgres]:
    """A PostgreSQL server of this test only, migrated; stopped (data kept in ``root``) after."""
    server = EmbeddedPostgres(root / "pg")
    migrate(server.start())
    try:
        yield server
    finally:
        server.stop()


def restart_postgres(server: EmbeddedPostgres, down_s: float) -> float:
    """Stop the server (fast shutdown: clients are cut off), keep it down, start it again on
    the same data and socket. Returns when it accepts connections; the time it went down."""
    dsn = server.dsn
    server.stop()
    stopped = time.monotonic()
    time.sleep(down_s)
    assert server.start() == dsn, "the restarted server answers on another address"
    return stopped


@contextmanager
def dedicated_broker(root: Path) -> Iterator[EmbeddedBroker]:
    """A Tansu broker (memory storage) of this test only, on a free port."""
    broker = EmbeddedBroker(free_port(), log_path=root / "tansu-faults.log")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
