"""A rebuild changes the live read models only in its final swap (issue 19): interrupted or
refused, it leaves them, and their positions, as they were."""

from __future__ import annotations

import socket
import subprocess

import psycopg
import pytest

from kartoteka import exits
from services.projections.rebuild import rebuild
from tests.integration.test_rebuild import _fill_every_read_model, _snapshot
from tests.support.infra import env_for
from tests.support.stack import KARTOTEKA, data_dir

pytestmark = pytest.mark.integration


def _positions(dsn: str) -> list[tuple[str, int]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT application_name, notification_id FROM tracking ORDER BY 1").fetchall()


def _shadows(dsn: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        return [r[0] for r in conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'kartoteka_%'")]


def test_an_interrupted_rebuild_leaves_the_old_models_and_the_next_one_swaps_in_the_same(
        settings, ingest, api, auth):
    _fill_every_read_model(settings, ingest, api, auth)
    before, positions = _snapshot(settings.dsn), _positions(settings.dsn)
    seen: list[int] = []

    def interrupt(done: int, total: int, elapsed: float) -> None:
        seen.append(done)
        raise KeyboardInterrupt  # Ctrl-C while the new models are half built

    with pytest.raises(KeyboardInterrupt):
        rebuild(settings, interrupt)
    assert seen, "interrupted before it started replaying"
    assert _snapshot(settings.dsn) == before
    assert _positions(settings.dsn) == positions
    assert _shadows(settings.dsn) == []

    report = rebuild(settings)
    assert report.skipped == {}
    assert _snapshot(settings.dsn) == before
    assert _shadows(settings.dsn) == []


def test_rebuild_checks_its_connections_before_it_touches_anything(settings):
    with psycopg.connect(settings.dsn) as conn:
        conn.execute("INSERT INTO customers (id, name, registered_at) VALUES (gen_random_uuid(), 'Ольга', now())")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    env = {**env_for(settings), "KARTOTEKA_DATA_DIR": str(data_dir()),
           "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{closed}"}
    done = subprocess.run([KARTOTEKA, "rebuild"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == exits.UNREACHABLE, done.stderr
    assert "KAFKA_BOOTSTRAP_SERVERS" in done.stderr and "Traceback" not in done.stderr
    with psycopg.connect(settings.dsn) as conn:
        assert conn.execute("SELECT count(*) FROM customers").fetchone()[0] == 1
