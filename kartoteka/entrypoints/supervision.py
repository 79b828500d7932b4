"""What ``kartoteka up`` adds to starting processes so an operator can trust it: checks before
anything starts, the stack described in stack.json, its metrics endpoint, crash loops."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from kartoteka import exits, metrics, preflight, stack
from kartoteka.exits import Refusal
from kartoteka.settings import Settings
from services.api.health_metrics import AuditCollector


class Supervised(Protocol):
    name: str
    restarts: int

    def alive(self) -> bool: ...

    @property
    def pid(self) -> int | None: ...


def check(settings: Settings, data_dir: Path) -> None:
    """Everything ``up`` needs, before it starts anything: one refusal line for the first miss."""
    from kartoteka.entrypoints.operate import detector_config

    detector_config(settings)  # a typo in KARTOTEKA_DETECTORS is one line now, not a crash loop
    running = stack.running(data_dir)
    if running is not None:
        raise Refusal(exits.ENVIRONMENT, f"a stack already runs from {data_dir} (pid {running.pid},"
                                         f" api {running.api}): stop it first, or use another "
                                         "KARTOTEKA_DATA_DIR")
    ports = [(settings.api_port, "api", "KARTOTEKA_API_PORT"),
             (settings.ingest_port, "ingest", "KARTOTEKA_INGEST_PORT")]
    if not settings.kafka_bootstrap_servers:
        ports.append((settings.broker_port, "embedded broker", "KARTOTEKA_BROKER_PORT"))
    for port, what, setting in ports:
        preflight.port_free(settings.host, port, what, setting)
    preflight.port_free(settings.metrics_host or settings.host, settings.metrics_port, "metrics",
                        "KARTOTEKA_METRICS_PORT")
    if settings.database_url:
        preflight.database_reachable(settings.database_url)
    else:
        preflight.data_dir_reachable(data_dir)
    if settings.kafka_bootstrap_servers:
        preflight.broker_reachable(settings.kafka_bootstrap_servers)


def describe(settings: Settings, data_dir: Path, embedded: dict[str, bool],
             children: Iterable[Supervised]) -> stack.Stack:
    return stack.Stack(
        pid=os.getpid(), data_dir=str(data_dir), database_url=settings.dsn,
        kafka_bootstrap_servers=settings.bootstrap, host=settings.host,
        api_port=settings.api_port, ingest_port=settings.ingest_port,
        metrics_port=settings.metrics_port, topic_prefix=settings.topic_prefix, embedded=embedded,
        children={c.name: c.pid for c in children if c.pid is not None},
        started_at=datetime.now(UTC).isoformat(timespec="seconds"))


class ChildrenCollector(Collector):
    """Restarts and liveness of each supervised process."""

    def __init__(self, children: Sequence[Supervised]) -> None:
        self.children = children

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        restarts = CounterMetricFamily("kartoteka_supervisor_restarts", "Restarts of a process by "
                                       "the supervisor", labels=["child"])
        up = GaugeMetricFamily("kartoteka_supervisor_child_up", "1 while the process runs",
                               labels=["child"])
        for child in list(self.children):
            restarts.add_metric([child.name], child.restarts)
            up.add_metric([child.name], 1 if child.alive() else 0)
        yield from (restarts, up)


def start_metrics(settings: Settings, data_dir: Path, children: Sequence[Supervised],
                  env: dict[str, str]) -> ThreadingHTTPServer:
    """Children write to run/metrics (emptied: a new stack counts from zero); one endpoint
    shows them merged, with every process of the stack by its title."""
    folder = data_dir / "run" / "metrics"
    metrics.reset_dir(folder)
    env[metrics.ENV] = str(folder)
    me = os.getpid()
    extra = [ChildrenCollector(children), AuditCollector(lambda: settings.dsn)]
    merged = metrics.registry(lambda: metrics.descendants(me), extra, folder)
    return metrics.serve(merged, settings.metrics_host or settings.host, settings.metrics_port)
