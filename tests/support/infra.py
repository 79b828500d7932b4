"""Real PostgreSQL and a real Kafka-API broker for the integration tests.

Uses ``DATABASE_URL`` / ``KAFKA_BOOTSTRAP_SERVERS`` when set, otherwise starts the same
embedded parts ``kartoteka up`` uses. Each test gets its own database (cloned from a
migrated template) and its own topic prefix, so tests never see each other's data.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from kartoteka import kafka
from kartoteka.embedded import EmbeddedBroker, EmbeddedPostgres, create_database_from, free_port
from kartoteka.migrate import migrate
from kartoteka.settings import Settings

TEMPLATE = "kartoteka_test_template"


@dataclass
class Infra:
    """Where the shared server and broker are."""

    admin_dsn: str
    bootstrap: str
    root: Path
    postgres: EmbeddedPostgres | None = None
    broker: EmbeddedBroker | None = None

    def stop(self) -> None:
        if self.broker:
            self.broker.stop()
        if self.postgres:
            self.postgres.stop(mode="immediate")  # its data dir goes next
        shutil.rmtree(self.root, ignore_errors=True)

    def restart_broker(self) -> None:
        """Restart the embedded broker on the same port (its log starts empty again)."""
        assert self.broker is not None, "only the embedded broker can be restarted by tests"
        self.broker.stop()
        self.broker.start()

    def new_settings(self, **overrides: object) -> Settings:
        name = f"t_{uuid.uuid4().hex[:12]}"
        dsn = create_database_from(self.admin_dsn, name, TEMPLATE)
        data_dir = self.root / name
        data_dir.mkdir(parents=True)
        values: dict[str, object] = {
            "database_url": dsn,
            "kafka_bootstrap_servers": self.bootstrap,
            "topic_prefix": f"{name}.",
            "data_dir": data_dir,
            "token_secret": "test-secret-for-hs256-signing-" + name,
            "partitions": 4,
        }
        values.update(overrides)
        settings = Settings(**values)  # type: ignore[arg-type]
        kafka.ensure_topics(settings)
        return settings


def start() -> Infra:
    root = Path(tempfile.mkdtemp(prefix="kartoteka-test-"))
    root.chmod(0o755)  # the embedded server runs as its own user when tests run as root
    postgres = broker = None
    admin_dsn = os.environ.get("DATABASE_URL")
    if not admin_dsn:
        postgres = EmbeddedPostgres(root / "pg")
        admin_dsn = postgres.start()
        _without_flushes(admin_dsn)
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not bootstrap:
        broker = EmbeddedBroker(free_port(), log_path=root / "tansu.log")
        bootstrap = broker.start()
    _prepare_template(admin_dsn)
    return Infra(admin_dsn, bootstrap, root, postgres, broker)


# The test server's data dir is thrown away after the session, and no test outlives the
# machine: what the tests kill is processes (PostgreSQL's own included), whose writes the OS
# still holds. Flushing each commit and each new database to the disk cost a third of a
# second per test's database (380 ms against 99 ms measured) and slowed every commit.
NO_FLUSHES = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def _without_flushes(admin_dsn: str) -> None:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        for name, value in NO_FLUSHES.items():
            conn.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value)))
        conn.execute("SELECT pg_reload_conf()")


def _prepare_template(admin_dsn: str) -> None:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
    migrate(create_database_from(admin_dsn, TEMPLATE))


def env_for(settings: Settings) -> dict[str, str]:
    """Environment that makes a child process build the same Settings."""
    return dict(
        os.environ,
        DATABASE_URL=settings.dsn,
        KAFKA_BOOTSTRAP_SERVERS=settings.bootstrap,
        KARTOTEKA_TOPIC_PREFIX=settings.topic_prefix,
        KARTOTEKA_DATA_DIR=str(settings.data_dir),
        KARTOTEKA_TOKEN_SECRET=settings.secret,
        KARTOTEKA_PARTITIONS=str(settings.partitions),
    )
