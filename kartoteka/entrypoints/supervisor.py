"""``kartoteka up``: start what the environment does not give, run every part, supervise, stop cleanly."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from kartoteka import exits, kafka, stack
from kartoteka.crashloop import CrashLoop
from kartoteka.embedded import EmbeddedBroker, EmbeddedPostgres
from kartoteka.entrypoints import operate, supervision
from kartoteka.exits import Refusal
from kartoteka.lifetime import preexec
from kartoteka.migrate import migrate
from kartoteka.settings import Settings
from services.projections import registry

log = logging.getLogger("kartoteka.supervisor")
WORKERS = registry.names()
MAX_BACKOFF_S = 30.0


@dataclass
class Child:
    """One supervised process and its restart bookkeeping."""

    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0
    next_start: float = 0.0
    env: dict[str, str] = field(default_factory=dict)
    exits: CrashLoop = field(default_factory=CrashLoop)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self) -> None:
        # Own session: a terminal's Ctrl-C reaches only the supervisor, which stops the
        # children in order (intake first, then drain). Parent death still stops them.
        self.process = subprocess.Popen(
            self.argv, env=self.env, start_new_session=True, preexec_fn=preexec()
        )
        self.started_at = time.monotonic()
        log.info("started", extra={"child": self.name, "pid": self.process.pid})

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout_s: float = 15) -> None:
        if not self.alive():
            return
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            log.warning("killing child that ignored SIGTERM", extra={"child": self.name})
            self.process.kill()
            self.process.wait()


class Supervisor:
    """Owns the embedded parts and the children; restarts crashed children with backoff."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.data_dir = settings.data_dir.resolve()
        self.stopping = threading.Event()
        self.postgres: EmbeddedPostgres | None = None
        self.broker: EmbeddedBroker | None = None
        self.children: list[Child] = []
        self.failure: Refusal | None = None  # why the stack stopped on its own (a crash loop)

    def run(self) -> int:
        operate.name_process("kartoteka up")
        print(f"kartoteka up: data dir {self.data_dir}", flush=True)
        supervision.check(self.settings, self.data_dir)  # before anything starts
        # Made now, not at the api's first request: `kartoteka token` refuses without it.
        _ = self.settings.secret
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stopping.set())
        started = time.monotonic()
        metrics_server = None
        try:
            env = self._start_infrastructure()
            metrics_server = supervision.start_metrics(self.settings, self.data_dir,
                                                       self.children, env)
            self._start_children(env)
            if not self._wait_ready(timeout_s=120):
                if self.failure is not None:
                    raise self.failure
                raise Refusal(exits.FAILED, "not ready within 120 s: see the log lines above")
            stack.write(supervision.describe(self.settings, self.data_dir, {
                "postgres": self.postgres is not None, "broker": self.broker is not None},
                self.children))
            host = self.settings.host
            print(
                f"kartoteka ready in {time.monotonic() - started:.1f}s: api http://{host}:"
                f"{self.settings.api_port} ingest http://{host}:{self.settings.ingest_port} metrics"
                f" http://{self.settings.metrics_host or host}:{self.settings.metrics_port}/metrics",
                flush=True,
            )
            while not self.stopping.wait(0.5):
                self._restart_crashed()
            if self.failure is not None:
                raise self.failure
            return 0
        finally:
            self._shutdown()
            if metrics_server is not None:
                metrics_server.shutdown()
            stack.remove(self.data_dir, os.getpid())

    def _start_infrastructure(self) -> dict[str, str]:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, KARTOTEKA_DATA_DIR=str(self.data_dir))
        if not self.settings.database_url:
            self.postgres = EmbeddedPostgres(self.data_dir / "pg", self.settings.pg_shared_buffers)
            env["DATABASE_URL"] = self.postgres.start()
            log.info("embedded postgres started", extra={"pgdata": str(self.postgres.pgdata)})
        if not self.settings.kafka_bootstrap_servers:
            self.broker = EmbeddedBroker(
                self.settings.broker_port, self.settings.host, log_path=self.data_dir / "tansu.log"
            )
            env["KAFKA_BOOTSTRAP_SERVERS"] = self.broker.start()
            log.info("embedded broker started", extra={"bootstrap": self.broker.bootstrap})
        if "DATABASE_URL" not in env:
            env["DATABASE_URL"] = self.settings.dsn
        if "KAFKA_BOOTSTRAP_SERVERS" not in env:
            env["KAFKA_BOOTSTRAP_SERVERS"] = self.settings.bootstrap
        settings = self.settings.model_copy(
            update={
                "database_url": env["DATABASE_URL"],
                "kafka_bootstrap_servers": env["KAFKA_BOOTSTRAP_SERVERS"],
            }
        )
        migrate(settings.dsn)
        kafka.ensure_topics(settings)
        self.settings = settings
        return env

    def _start_children(self, env: dict[str, str]) -> None:
        env[operate.SUPERVISED] = "1"
        base = [sys.executable, "-m", "kartoteka.entrypoints.cli"]
        names = [(name, ["worker", name]) for name in WORKERS]
        for name, argv in [*names, ("ingest", ["serve", "ingest"]), ("api", ["serve", "api"])]:
            loop = CrashLoop(self.settings.crash_loop_restarts, self.settings.crash_loop_window_s)
            self.children.append(Child(name, [*base, *argv], env=env, exits=loop))
        self._status_dir().mkdir(parents=True, exist_ok=True)
        for child in self.children:
            child.start()

    def _status_dir(self) -> Path:
        return self.data_dir / "run"

    def _worker_status(self, name: str) -> dict[str, float] | None:
        path = self._status_dir() / f"{self.settings.topic_prefix}{name}.status.json"
        try:
            return json.loads(path.read_text())  # type: ignore[no-any-return]
        except (OSError, ValueError):
            return None

    def _wait_ready(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        started = time.time()
        while time.monotonic() < deadline and not self.stopping.is_set():
            self._restart_crashed()
            http_ok = all(
                _http_ok(self.settings.host, port)
                for port in (self.settings.api_port, self.settings.ingest_port)
            )
            workers_ok = all(
                (s := self._worker_status(n)) and s.get("at", time.time()) >= started - 1
                for n in WORKERS
            )
            if http_ok and workers_ok:
                return True
            time.sleep(0.2)
        return False

    def _restart_broker_if_dead(self) -> None:
        """The embedded broker is supervised too; its log restarts empty (memory storage)."""
        if self.broker is None or self.broker.process is None or self.broker.process.poll() is None:
            return
        log.error("embedded broker exited; restarting it with an empty log",
                  extra={"code": self.broker.process.returncode})
        self.broker.start()
        kafka.ensure_topics(self.settings)

    def _restart_crashed(self) -> None:
        self._restart_broker_if_dead()
        now = time.monotonic()
        for child in self.children:
            if child.alive() or self.stopping.is_set():
                continue
            if child.next_start == 0.0:
                code = child.process.returncode if child.process else None
                if child.exits.exited(now):
                    self._crash_loop(child, code)
                    return
                uptime = now - child.started_at
                if uptime > 60:
                    child.restarts = 0
                backoff = min(MAX_BACKOFF_S, 0.5 * 2**child.restarts)
                child.next_start = now + backoff
                log.error(
                    "child exited; restarting",
                    extra={
                        "child": child.name,
                        "code": code,
                        "backoff_s": backoff,
                        "restarts": child.restarts,
                    },
                )
            elif now >= child.next_start:
                child.restarts += 1
                child.next_start = 0.0
                child.start()

    def _crash_loop(self, child: Child, code: int | None) -> None:
        """Restarting again would not help: stop the stack and say why."""
        reason = child.exits.describe(child.name, code)
        log.error("crash loop; stopping the stack", extra={"child": child.name, "code": code})
        self.failure = Refusal(exits.CRASH_LOOP, reason)
        self.stopping.set()

    def _shutdown(self) -> None:
        """Stop intake first, let the workers drain what the broker holds, then stop the rest."""
        log.info("shutting down")
        for child in self.children:
            if child.name in ("ingest", "api"):
                child.stop()
        self._drain(timeout_s=60)
        for child in self.children:
            child.stop()
        if self.broker:
            self.broker.stop()
        if self.postgres:
            self.postgres.stop()
        log.info("stopped")

    def _drain(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        quiet = 0
        while time.monotonic() < deadline and any(c.alive() for c in self.children):
            # A worker that is down (a crash loop) drains nothing: wait for the others only.
            running = [c.name for c in self.children if c.name in WORKERS and c.alive()]
            statuses = [self._worker_status(n) for n in running]
            fresh = [s for s in statuses if s and time.time() - s.get("at", 0) < 3]
            if len(fresh) == len(running) and all(s.get("lag", 1) == 0 for s in fresh):
                quiet += 1
                if quiet >= 3:
                    log.info("workers drained")
                    return
            else:
                quiet = 0
            time.sleep(0.5)
        log.warning("drain incomplete at shutdown")


def _http_ok(host: str, port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/readyz", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False
