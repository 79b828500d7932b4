"""``kartoteka serve``: one HTTP service as ``KARTOTEKA_HTTP_WORKERS`` uvicorn processes.

Each worker binds its own socket with SO_REUSEPORT, so the kernel spreads new connections
over the workers. uvicorn's own ``--workers`` shares one listening socket instead, and the
first worker to wake accepts every pending connection: a handful of keep-alive clients (a
few channels, a load generator) then all land on one process while the other idles.

The manager imports what its workers import and forks them, so they share those pages instead
of each importing its own copy (bench/README.md, "Memory"); it builds no app, pool or socket
first, and starts its metrics server (a container's, a thread) only once they run. A worker
replaced while that thread runs is spawned instead: nothing half-held is inherited.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import signal
import socket
import threading
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from typing import Any

from kartoteka.entrypoints.operate import name_process, serve_own_metrics
from kartoteka.lifetime import die_with_parent
from kartoteka.settings import Settings

log = logging.getLogger("kartoteka.serve")
QUICK_EXIT_S = 5.0  # a worker that dies this soon after its start did not start at all
MAX_QUICK_EXITS = 3


def _options() -> dict[str, Any]:
    return {"loop": "uvloop", "http": "httptools", "log_config": None, "access_log": False,
            "timeout_graceful_shutdown": 10}


def tune_gc(service: str) -> None:
    """Ingest makes thousands of short-lived objects per batch (models, kafka-python's futures);
    with the default thresholds the cycle collector ran often and rescanned every module object:
    about a quarter of ingest's CPU per interaction (bench/README.md). The objects of the start-up
    are frozen out of its scans and the youngest generation collects less often."""
    if service != "ingest":
        return
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 50, 100)


def serve(service: str, settings: Settings) -> int:
    import uvicorn

    port = settings.ingest_port if service == "ingest" else settings.api_port
    if settings.http_workers > 1:
        return Manager(service, settings.host, port, settings.http_workers,
                       started=lambda: serve_own_metrics(settings, service)).run()
    serve_own_metrics(settings, service)
    if service == "ingest":
        from services.ingest.app import create_app
    else:
        from services.api.app import create_app  # type: ignore[assignment]
    app = create_app(settings)
    tune_gc(service)
    uvicorn.run(app, host=settings.host, port=port, **_options())
    return 0


def _worker(service: str, host: str, port: int) -> None:
    """One worker process: its own SO_REUSEPORT socket, one uvicorn server."""
    import uvicorn

    die_with_parent(signal.SIGTERM)
    for sig in (signal.SIGTERM, signal.SIGINT):  # the manager's handlers came along with a fork
        signal.signal(sig, signal.SIG_DFL)
    name_process(f"kartoteka {service} http-worker")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    config = uvicorn.Config(f"kartoteka.entrypoints.asgi:{service}", factory=True, host=host, port=port,
                            **_options())
    config.load()  # imports and builds the app, so that tune_gc freezes what it made
    tune_gc(service)
    uvicorn.Server(config).run(sockets=[sock])


def preload(service: str) -> None:
    """Import the service's modules (no app, no connection), then freeze them out of the cycle
    collector's scans, which would otherwise write to every page of them in each worker."""
    import uvicorn  # noqa: F401
    import uvicorn.loops.uvloop  # noqa: F401
    import uvicorn.protocols.http.httptools_impl  # noqa: F401

    import kartoteka.entrypoints.asgi  # noqa: F401

    if service == "ingest":
        import services.ingest.app  # noqa: F401
    else:
        import services.api.app  # noqa: F401
    gc.collect()
    gc.freeze()


class Manager:
    """Starts the workers, replaces one that dies, stops them all on SIGTERM or SIGINT."""

    def __init__(self, service: str, host: str, port: int, workers: int,
                 started: Callable[[], None] = lambda: None) -> None:
        self.service, self.host, self.port, self.count = service, host, port, workers
        self.started = started  # called once the first workers run
        self.workers: list[tuple[BaseProcess, float]] = []
        self.stopping = False
        self.quick_exits = 0

    def run(self) -> int:
        if threading.active_count() == 1:
            preload(self.service)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._stop)
        self.workers = [self._start() for _ in range(self.count)]
        self.started()
        try:
            while not self.stopping:
                time.sleep(0.2)
                if not self._replace_dead():
                    return 1
            return 0
        finally:
            self._stop_all()

    def _start(self) -> tuple[BaseProcess, float]:
        context: Any = multiprocessing.get_context("fork" if threading.active_count() == 1 else "spawn")
        process = context.Process(target=_worker, args=(self.service, self.host, self.port),
                                       name=f"{self.service}-worker", daemon=False)
        process.start()
        return process, time.monotonic()

    def _replace_dead(self) -> bool:
        """Restart dead workers; False when they keep dying at start (the port is taken by
        another program, the configuration is broken): then the supervisor's backoff applies."""
        for i, (process, started) in enumerate(self.workers):
            if process.is_alive() or self.stopping:
                continue
            quick = time.monotonic() - started < QUICK_EXIT_S
            self.quick_exits = self.quick_exits + 1 if quick else 0
            log.error("http worker exited", extra={"service": self.service, "pid": process.pid,
                                                   "exitcode": process.exitcode})
            if self.quick_exits >= MAX_QUICK_EXITS:
                log.error("http workers keep failing at start; giving up", extra={"service": self.service})
                return False
            self.workers[i] = self._start()
        return True

    def _stop(self, *_: Any) -> None:
        self.stopping = True

    def _stop_all(self) -> None:
        for process, _ in self.workers:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes requests in flight, then exits
        deadline = time.monotonic() + 20
        for process, _ in self.workers:
            process.join(max(0.1, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
