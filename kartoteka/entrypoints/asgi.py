"""App factories for the HTTP worker processes (``kartoteka.entrypoints.serving``).

A worker process starts with a fresh interpreter and imports the app by name, so it builds
its own settings, logging and connections here.
"""

from __future__ import annotations

from fastapi import FastAPI

from kartoteka import logs
from kartoteka.settings import Settings


def ingest() -> FastAPI:
    from services.ingest.app import create_app

    settings = Settings()
    logs.configure("ingest", settings.log_level)
    return create_app(settings)


def api() -> FastAPI:
    from services.api.app import create_app

    settings = Settings()
    logs.configure("api", settings.log_level)
    return create_app(settings)
