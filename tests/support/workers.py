"""Run projection workers in threads (fast) or as real processes (for kill -9 tests)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from kartoteka import db
from kartoteka.settings import Settings
from services.projections import registry
from services.projections.spec import Context
from services.projections.status import status_file
from services.projections.tracking import Positions
from tests.support.infra import env_for

ALL = ("resolver", "relay", "timeline", "audit")


@contextmanager
def running(settings: Settings, names: tuple[str, ...] = ALL) -> Iterator[dict[str, Any]]:
    """Workers in background threads of this process, stopped (and checked) on exit."""
    datastore = db.datastore(settings.dsn, pool_size=4)
    positions = Positions(datastore)
    workers: dict[str, Any] = {}
    for name in names:
        # A second worker of one kind (concurrency tests) gets its own key and status file.
        key = name if name not in workers else f"{name}#{sum(k.startswith(name) for k in workers) + 1}"
        ctx = Context(settings, datastore, positions, status_file(settings, key))
        workers[key] = registry.runnable(registry.spec_of(name), ctx)
    errors: list[BaseException] = []
    threads = [
        threading.Thread(target=_guard(w.run, errors), daemon=True, name=n)
        for n, w in workers.items()
    ]
    for thread in threads:
        thread.start()
    try:
        yield workers
    finally:
        for worker in workers.values():
            worker.stopping.set()
        for thread in threads:
            thread.join(30)
        datastore.close()
    assert not errors, f"a worker failed: {errors!r}"


def _guard(target: Callable[[], None], errors: list[BaseException]) -> Callable[[], None]:
    def run() -> None:
        try:
            target()
        except BaseException as exc:  # surfaced by the context manager
            errors.append(exc)
            raise

    return run


def spawn(settings: Settings, name: str, **env: str) -> subprocess.Popen[bytes]:
    """A worker as a real process, exactly as the supervisor starts it (``env``: more settings)."""
    return subprocess.Popen(
        [sys.executable, "-m", "kartoteka.entrypoints.cli", "worker", name],
        env={**env_for(settings), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_until(
    predicate: Callable[[], Any],
    timeout_s: float = 30,
    interval_s: float = 0.1,
    message: str = "condition",
) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} not met within {timeout_s}s (last value {value!r})")
        time.sleep(interval_s)
