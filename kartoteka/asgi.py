"""App factories for uvicorn's worker processes (``kartoteka serve`` with ``KARTOTEKA_HTTP_WORKERS`` > 1).

uvicorn starts each worker with a fresh interpreter and imports the app by name, so the
worker builds its own settings, logging and connections here.
"""

from __future__ import annotations

import multiprocessing
import os
import signal

from fastapi import FastAPI

from kartoteka import logs
from kartoteka.settings import Settings


def _die_with_parent() -> None:
    """A worker must not outlive uvicorn's manager (kill -9 of ``serve``): it would keep the
    port and serve with a stale configuration."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        return
    parent = multiprocessing.parent_process()
    if parent is not None and os.getppid() != parent.pid:
        # The manager died while this worker was still starting: the signal will never come.
        raise SystemExit("uvicorn's manager is gone")


def ingest() -> FastAPI:
    from services.ingest.app import create_app

    settings = Settings()
    _die_with_parent()
    logs.configure("ingest", settings.log_level)
    return create_app(settings)


def api() -> FastAPI:
    from services.api.app import create_app

    settings = Settings()
    _die_with_parent()
    logs.configure("api", settings.log_level)
    return create_app(settings)
