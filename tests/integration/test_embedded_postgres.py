"""The embedded PostgreSQL runs sized to the machine (kartoteka.embedded)."""

from __future__ import annotations

import psycopg
import pytest

from kartoteka.embedded import _configure, server_settings, total_memory
from tests.support.infra import Infra


def test_the_embedded_server_runs_with_its_sizing_and_keeps_it(infra: Infra) -> None:
    if infra.postgres is None:
        pytest.skip("DATABASE_URL given: not the embedded server")
    wanted = server_settings(total_memory())
    with psycopg.connect(infra.admin_dsn) as conn:
        buffers = conn.execute("SELECT current_setting('shared_buffers')").fetchone()
        preload = conn.execute("SELECT current_setting('shared_preload_libraries')").fetchone()
    assert buffers is not None and preload is not None
    assert _mb(buffers[0]) == wanted["shared_buffers"]
    assert preload[0] == "pg_prewarm"  # autoprewarm: the cached pages come back after a restart
    # Already applied: starting the same data dir again needs no second restart.
    assert _configure(infra.admin_dsn, wanted) is False


def _mb(shown: str) -> str:
    """current_setting prints 6GB or 512MB; back to MB."""
    return f"{int(shown[:-2]) * 1024}MB" if shown.endswith("GB") else shown
