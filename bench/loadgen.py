"""Runs locust headless as a subprocess (the real load generator) and reads back its samples."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from bench.cpu import Meter
from bench.stack import REPO
from bench.stats import Sample

LOCUSTFILE = REPO / "bench" / "locustfile.py"


@dataclass
class LoadRun:
    """What one locust run did, and the CPU every process used meanwhile."""

    samples: list[Sample]
    seconds: float
    cpu: dict[str, float]
    exit_code: int

    def ok(self, name: str | None = None) -> list[Sample]:
        return [s for s in self.samples if s.ok and (name is None or s.name == name)]

    @property
    def failures(self) -> int:
        return sum(1 for s in self.samples if not s.ok)

    def throughput(self) -> float:
        """Accepted items per second between the first request sent and the last answer."""
        good = self.ok()
        if not good:
            return 0.0
        span = max(s.ended for s in good) - min(s.started for s in self.samples)
        return sum(s.items for s in good) / max(span, 1e-6)


def run_locust(
    user: str,
    host: str,
    users: int,
    seconds: float,
    env: dict[str, str],
    out: Path,
    pids: dict[str, int],
) -> LoadRun:
    """``locust --headless`` with one user class for at most ``seconds`` (it may stop earlier)."""
    samples = out.with_suffix(".samples.csv")
    argv = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "-u", str(users), "-r", str(users), "-t", f"{int(seconds)}s", "-H", host,
        "--only-summary", "--stop-timeout", "10", "--loglevel", "WARNING", user,
    ]
    child_env = {**os.environ, "PYTHONPATH": str(REPO), "BENCH_SAMPLES": str(samples), **env}
    meter = Meter(pids).start()
    started = time.monotonic()
    with open(out.with_suffix(".log"), "wb") as log:
        process = subprocess.Popen(argv, env=child_env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        _progress(process, f"locust {user}", seconds)
    cpu = meter.stop()
    return LoadRun(_read(samples), time.monotonic() - started, cpu, process.returncode)


def _progress(process: subprocess.Popen[bytes], label: str, seconds: float) -> None:
    with tqdm(total=int(seconds), desc=label, unit="s", leave=False) as bar:
        started = time.monotonic()
        while process.poll() is None:
            time.sleep(0.5)
            bar.n = min(int(time.monotonic() - started), int(seconds))
            bar.refresh()
    if process.wait() not in (0, 1):  # 1: some requests failed, which the samples show
        raise RuntimeError(f"locust exited with {process.returncode}")


def _read(path: Path) -> list[Sample]:
    if not path.exists():
        return []
    found = []
    for line in path.read_text().splitlines():
        started, ended, name, ok, items = line.split(",")
        found.append(Sample(float(started), float(ended), name, ok == "1", int(items)))
    return found
