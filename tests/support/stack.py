"""``kartoteka up`` as a real process, on the test PostgreSQL and broker, with free ports."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from kartoteka.embedded import free_port
from kartoteka.settings import Settings
from tests.support.infra import env_for

KARTOTEKA = str(Path(sys.executable).parent / "kartoteka")


def data_dir() -> Path:
    """A data dir the embedded server's user could enter (pytest's tmp_path is 0700)."""
    root = Path(tempfile.mkdtemp(prefix="kartoteka-stack-"))
    root.chmod(0o755)
    return root


@dataclass
class Up:
    process: subprocess.Popen[str]
    env: dict[str, str]
    ports: dict[str, int]
    lines: list[str] = field(default_factory=list)

    def wait_for(self, text: str, timeout_s: float) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if text in line:
                    return line
            assert self.process.poll() is None or any(text in line for line in self.lines), \
                f"kartoteka up exited {self.process.returncode}:\n" + "".join(self.lines[-30:])
            time.sleep(0.2)
        raise AssertionError(f"no line with {text!r} in {timeout_s}s:\n" + "".join(self.lines[-30:]))

    def stop(self, timeout_s: float = 90) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout_s)


def stack_env(settings: Settings, folder: Path, **extra: str) -> tuple[dict[str, str], dict[str, int]]:
    ports = {"api": free_port(), "ingest": free_port(), "metrics": free_port()}
    env = dict(env_for(settings), KARTOTEKA_DATA_DIR=str(folder), KARTOTEKA_HTTP_WORKERS="1",
               KARTOTEKA_TIMELINE_PROCESSES="1", KARTOTEKA_API_PORT=str(ports["api"]),
               KARTOTEKA_INGEST_PORT=str(ports["ingest"]),
               KARTOTEKA_METRICS_PORT=str(ports["metrics"]), **extra)
    env.pop("KARTOTEKA_TOKEN_SECRET")  # the stack's own secret file, as an operator has it
    return env, ports


@contextmanager
def up(settings: Settings, **extra: str) -> Iterator[Up]:
    folder = data_dir()
    env, ports = stack_env(settings, folder, **extra)
    process = subprocess.Popen([KARTOTEKA, "up"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    running = Up(process, env, ports)

    def collect() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            running.lines.append(line)

    threading.Thread(target=collect, daemon=True).start()
    try:
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(90)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(folder, ignore_errors=True)


def command(env: dict[str, str], *args: str, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    """A ``kartoteka`` command as an operator runs it: only the data dir in the environment."""
    plain = {k: v for k, v in env.items()
             if k not in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "KARTOTEKA_API_PORT",
                          "KARTOTEKA_INGEST_PORT", "KARTOTEKA_TOPIC_PREFIX")}
    return subprocess.run([KARTOTEKA, *args], env=plain, capture_output=True, text=True,
                          timeout=timeout_s, cwd=os.getcwd())
