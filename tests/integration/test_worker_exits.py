"""A worker process that loses its database session (the server restarted, an administrator
ended it) stops with one structured record and its exit code, for the supervisor to restart:
no bare traceback and no command-line hint in the stack's JSON log."""

from __future__ import annotations

import json
import threading
from collections import deque

import psycopg
import pytest

from kartoteka import exits
from tests.support.faults import drain
from tests.support.workers import spawn, wait_until

pytestmark = pytest.mark.integration
TERMINATE = ("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
             " WHERE datname = current_database() AND pid <> pg_backend_pid()")


def _claiming(dsn: str, claims: str) -> bool:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE %s",
                           (f"kartoteka claims {claims} pid=%",)).fetchone()
        return bool(row and row[0])


# audit runs as one process; the card + timeline as a parent watching its shares (processes of
# their own, started by multiprocessing), whose failure the parent reports and exits 1 for.
@pytest.mark.parametrize(("name", "code"), [("audit", exits.UNREACHABLE), ("timeline", 1)])
def test_a_lost_database_session_stops_the_worker_with_one_json_error(settings, name, code):
    worker = spawn(settings, name)
    lines: deque[str] = deque(maxlen=500)
    reader = threading.Thread(target=drain, args=(worker, lines), daemon=True)
    reader.start()
    try:
        wait_until(lambda: _claiming(settings.dsn, f"{settings.topic_prefix}{name}"), message="the worker claiming")
        with psycopg.connect(settings.dsn, autocommit=True) as conn:
            conn.execute(TERMINATE)
        assert worker.wait(60) == code
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)
    reader.join(10)
    text = [line for line in lines if line.strip()]
    records = [json.loads(line) for line in text if line.startswith("{")]
    assert len(records) == len(text), [line for line in text if not line.startswith("{")][:20]
    stopped = [r for r in records if r["msg"] == "worker stopped: the database cannot be reached"]
    assert len(stopped) == 1 and stopped[0]["level"] == "error", records[-5:]
    assert "terminating connection" in stopped[0]["error"]
