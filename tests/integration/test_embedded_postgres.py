"""The embedded PostgreSQL runs sized to the machine (kartoteka.embedded)."""

from __future__ import annotations

import psycopg
import pytest

from kartoteka.embedded import MIB, _configure, server_settings, shared_buffers_mb, total_memory
from tests.support.infra import Infra


def test_the_embedded_server_runs_with_its_sizing_and_keeps_it(infra: Infra) -> None:
    if infra.postgres is None:
        pytest.skip("DATABASE_URL given: not the embedded server")
    with psycopg.connect(infra.admin_dsn) as conn:
        buffers = conn.execute(  # the running value, in bytes
            "SELECT setting::bigint * 8192 FROM pg_settings WHERE name = 'shared_buffers'").fetchone()
        preload = conn.execute("SELECT current_setting('shared_preload_libraries')").fetchone()
    assert buffers is not None and preload is not None
    assert buffers[0] == shared_buffers_mb(total_memory()) * MIB
    assert preload[0] == "pg_prewarm"  # autoprewarm: the cached pages come back after a restart
    # Already applied: starting the same data dir again needs no second restart.
    assert _configure(infra.admin_dsn, server_settings(total_memory())) is False
