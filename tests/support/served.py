"""``kartoteka serve`` as a real process (a uvicorn manager and its worker processes)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from kartoteka.embedded import free_port
from kartoteka.settings import Settings
from tests.support.infra import env_for


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def served(settings: Settings, service: str, workers: int,
           extra_env: dict[str, str] | None = None) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """The manager and its base URL once ``/readyz`` answers; stopped with SIGTERM afterwards."""
    port = free_port()
    env = dict(env_for(settings), KARTOTEKA_HTTP_WORKERS=str(workers),
               **{f"KARTOTEKA_{service.upper()}_PORT": str(port)}, **(extra_env or {}))
    manager = subprocess.Popen([sys.executable, "-m", "kartoteka.entrypoints.cli", "serve", service], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not ready(url):
            assert manager.poll() is None and time.monotonic() < deadline, f"{service} did not start"
            time.sleep(0.2)
        yield manager, url
    finally:
        if manager.poll() is None:
            manager.send_signal(signal.SIGTERM)
            manager.wait(30)
