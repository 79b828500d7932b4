"""The embedded PostgreSQL and broker for a command run while the stack is down (rebuild)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from kartoteka import exits, kafka, preflight, stack
from kartoteka.embedded import EmbeddedBroker, EmbeddedPostgres
from kartoteka.exits import Refusal
from kartoteka.migrate import migrate
from kartoteka.settings import Settings

log = logging.getLogger(__name__)


@contextmanager
def stack_down(settings: Settings, what: str) -> Iterator[Settings]:
    """``settings`` with a database and a broker for ``what``, which needs the stack stopped:
    the given ones, checked, or the embedded ones started here (and stopped after)."""
    running = stack.running(settings.data_dir)
    if running is not None:
        raise Refusal(exits.ENVIRONMENT, f"{what} needs the stack stopped: stop `make run` "
                                         f"(pid {running.pid}) first")
    with ExitStack() as started:
        update: dict[str, str] = {}
        if settings.database_url:
            preflight.database_reachable(settings.database_url)
        else:
            preflight.data_dir_reachable(settings.data_dir)
            postgres = EmbeddedPostgres(settings.data_dir / "pg", settings.pg_shared_buffers)
            update["database_url"] = postgres.start()
            started.callback(postgres.stop)
        if settings.kafka_bootstrap_servers:
            preflight.broker_reachable(settings.kafka_bootstrap_servers)
        else:
            preflight.port_free(settings.host, settings.broker_port, "embedded broker",
                                "KARTOTEKA_BROKER_PORT")
            broker = EmbeddedBroker(settings.broker_port, settings.host,
                                    log_path=settings.data_dir / "tansu.log")
            update["kafka_bootstrap_servers"] = broker.start()
            started.callback(broker.stop)
        ready = settings.model_copy(update=update)
        if update:
            log.info("embedded parts started for the command",
                     extra={"what": what, "started": sorted(update)})
            migrate(ready.dsn)
        kafka.ensure_topics(ready)
        yield ready
