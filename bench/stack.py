"""One isolated deployment per phase: its own database and topic prefix on the shared PostgreSQL and
broker, its own ports, and the real services and workers as real processes (as ``kartoteka up`` runs them).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from kartoteka.auth import Role, mint
from kartoteka.embedded import free_port
from kartoteka.lifetime import preexec
from kartoteka.settings import Settings
from tests.support.infra import Infra, env_for

SERVICES = ("ingest", "api")
REPO = Path(__file__).resolve().parent.parent


@dataclass
class Proc:
    """A service or worker process with its log file."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                self.argv, env=self.env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=preexec(),
            )
        self.started_at = time.time()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self, timeout_s: float = 30) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class Stack:
    """Kartoteka for one phase; ``start`` the parts it needs, ``stop`` them all at the end."""

    infra: Infra
    label: str
    run_dir: Path
    settings: Settings = field(init=False)
    procs: dict[str, Proc] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.settings = self.infra.new_settings(ingest_port=free_port(), api_port=free_port())
        self.env = {
            **env_for(self.settings),
            "KARTOTEKA_INGEST_PORT": str(self.settings.ingest_port),
            "KARTOTEKA_API_PORT": str(self.settings.api_port),
            "KARTOTEKA_HOST": self.settings.host,
        }

    def start(self, *names: str, timeout_s: float = 120, wait: bool = True) -> None:
        since = time.time()
        for name in names:
            mode = ["serve", name] if name in SERVICES else ["worker", name]
            log = self.run_dir / f"{self.label}-{name}.log"
            proc = Proc(name, [sys.executable, "-m", "kartoteka.entrypoints.cli", *mode], self.env, log)
            proc.start()
            self.procs[name] = proc
        if wait:
            self.wait_ready(names, since, timeout_s)

    def wait_ready(self, names: tuple[str, ...], since: float, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        pending = set(names)
        while pending:
            for name in list(pending):
                if self.procs[name].process.poll() is not None:  # type: ignore[union-attr]
                    raise RuntimeError(f"{self.label}/{name} exited; see {self.procs[name].log}")
                ready = _http_ready(self.url(name)) if name in SERVICES else self._fresh(name, since)
                if ready:
                    pending.discard(name)
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.label}: not ready in {timeout_s}s: {sorted(pending)}")
            time.sleep(0.2)

    def _fresh(self, name: str, since: float) -> bool:
        status = self.status(name)
        return bool(status and status.get("at", 0) >= since)

    def wait_caught_up(self, timeout_s: float = 180, busy_status_s: float = 3.0) -> float | None:
        """Seconds until no running worker reports a lag; None when some still do after
        ``timeout_s`` (the caller goes on). A busy worker writes its status every 2 s
        (``runner.STATUS_BUSY_S``), so after ``busy_status_s`` an old status saying 0 is an idle
        worker's (retention writes rarely), not a stale one."""
        since = time.time()
        while time.time() - since < timeout_s:
            statuses = [self.status(n) for n in self.procs if n not in SERVICES]
            if time.time() - since >= busy_status_s and not any(s and s.get("lag") for s in statuses):
                return round(time.time() - since, 1)
            time.sleep(0.5)
        return None

    def status(self, name: str) -> dict[str, Any] | None:
        path = self.settings.data_dir / "run" / f"{self.settings.topic_prefix}{name}.status.json"
        try:
            return json.loads(path.read_text())  # type: ignore[no-any-return]
        except (OSError, ValueError):
            return None

    def url(self, service: str) -> str:
        port = self.settings.ingest_port if service == "ingest" else self.settings.api_port
        return f"http://{self.settings.host}:{port}"

    def token(self, role: Role, subject: str) -> str:
        return mint(self.settings.secret, subject, role, 6 * 3600)

    def connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.settings.dsn, autocommit=True)

    def count(self, table: str = "timeline") -> int:
        with self.connect() as conn:
            row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
        return int(row[0]) if row else 0

    def pids(self) -> dict[str, int]:
        running = {n: p.pid for n, p in self.procs.items() if p.process and p.process.poll() is None}
        if self.infra.broker and self.infra.broker.process:
            running["tansu"] = self.infra.broker.process.pid
        if self.infra.postgres:
            pidfile = self.infra.postgres.pgdata / "postmaster.pid"
            running["postgres"] = int(pidfile.read_text().split()[0])
        return running

    def stop(self, *names: str) -> None:
        for name in names or tuple(self.procs):
            self.procs[name].stop()


def _http_ready(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/readyz", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False
