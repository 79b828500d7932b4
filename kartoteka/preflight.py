"""Checks before anything starts or changes: each failure is one line saying what and how to fix.

``kartoteka up`` runs them before it starts a process, ``kartoteka rebuild`` before it
touches a table: a taken port, an unreachable database or broker, or a data dir the
embedded PostgreSQL's system user cannot enter must not show up later as a restart loop,
a hang or a half-done rebuild.
"""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from kartoteka.exits import ENVIRONMENT, UNREACHABLE, Refusal

POSTGRES_USER = "embedded_postgres"  # the system user the embedded server runs as under root
CONNECT_TIMEOUT_S = 5


def port_free(host: str, port: int, what: str, setting: str) -> None:
    """Refuse a port something already listens on (bound without SO_REUSEPORT, so a
    leftover Kartoteka process that shares its port counts as taken too)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise Refusal(
                ENVIRONMENT,
                f"port {port} on {host} ({what}) is in use ({exc.strerror}): stop what holds it "
                f"(`ss -ltnp 'sport = :{port}'`) or set {setting} to a free port",
            ) from None


def redacted(dsn: str) -> str:
    """The DSN without its password, for messages."""
    try:
        info = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "<unparseable DATABASE_URL>"
    if "password" in info:
        info["password"] = "***"
    return make_conninfo(**info)  # type: ignore[arg-type]


def database_reachable(dsn: str, fix: str = "check DATABASE_URL, or unset it to use the "
                       "embedded PostgreSQL") -> None:
    try:
        with psycopg.connect(dsn, connect_timeout=CONNECT_TIMEOUT_S) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[-1]
        raise Refusal(UNREACHABLE, f"PostgreSQL at {redacted(dsn)} cannot be reached ({reason}): "
                                   f"{fix}") from None


def broker_reachable(bootstrap: str, fix: str = "check KAFKA_BOOTSTRAP_SERVERS, or unset it "
                     "to use the embedded broker") -> None:
    """At least one bootstrap server accepts a TCP connection."""
    failures = []
    for server in (s.strip() for s in bootstrap.split(",") if s.strip()):
        host, _, port = server.rpartition(":")
        try:
            with socket.create_connection((host.strip("[]") or "localhost", int(port)),
                                          timeout=CONNECT_TIMEOUT_S):
                return
        except (OSError, ValueError) as exc:
            failures.append(f"{server}: {getattr(exc, 'strerror', None) or exc}")
    raise Refusal(UNREACHABLE, f"Kafka broker {bootstrap} cannot be reached "
                               f"({'; '.join(failures) or 'no servers given'}): {fix}")


def data_dir_reachable(data_dir: Path, user: str = POSTGRES_USER) -> None:
    """Under root the embedded PostgreSQL runs as ``user``: it must enter every directory
    above its data. Checked as that user, so modes, ACLs and mounts all count."""
    if os.geteuid() != 0:
        return
    data_dir = data_dir.resolve()
    existing = next(p for p in (data_dir, *data_dir.parents) if p.exists())
    for folder in reversed([existing, *existing.parents]):
        if not _as_user(user, "-x", folder):
            raise Refusal(
                ENVIRONMENT,
                f"the embedded PostgreSQL runs as system user {user}, which cannot enter {folder}: "
                f"`chmod o+x {folder}`, or set KARTOTEKA_DATA_DIR to a directory it can reach "
                "(e.g. under /var/lib or /srv)",
            )


def _as_user(user: str, test: str, folder: Path) -> bool:
    try:
        return subprocess.run(["test", test, str(folder)], user=user, check=False,
                              timeout=10).returncode == 0
    except (KeyError, OSError, subprocess.TimeoutExpired):
        return True  # no such user here: the wheel creates it; nothing to check against
