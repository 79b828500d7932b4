"""Runs wrk (C, from Debian) with ``bench/reads.lua`` for the read benchmark, and with
``bench/posts.lua`` for single deliveries (one interaction per POST).

Reads are measured with wrk rather than locust: a locust client on these 2 cores costs about
as much CPU per request as the api does, and its own scheduling shows up in the tail it
reports (card reads at 100/s against the same running stack, alternated: p50 39-49 ms through
locust, 7-15 ms through wrk).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from bench.cpu import Meter
from bench.stack import REPO

SCRIPT = REPO / "bench" / "reads.lua"
POSTS = REPO / "bench" / "posts.lua"
DONE = REPO / "bench" / "wrk_done.lua"  # the scripts' shared done(): the histogram as JSON


@dataclass
class WrkRun:
    """One wrk run: its latency quantiles (ms), request counts and the CPU used meanwhile."""

    requests: int
    failures: int
    seconds: float
    quantiles_ms: list[float]  # percentiles 0.1 .. 100 by 0.1
    cpu: dict[str, float]

    def percentile(self, q: float) -> float | None:
        """``q`` in 0..100, from wrk's own histogram (microsecond resolution)."""
        if not self.quantiles_ms:
            return None
        return round(self.quantiles_ms[max(1, round(q * 10)) - 1], 3)

    def summary(self) -> dict[str, float | int | None]:
        return {"n": self.requests, "p50": self.percentile(50), "p95": self.percentile(95),
                "p99": self.percentile(99), "max": self.percentile(100)}

    @property
    def per_s(self) -> float:
        return round(self.requests / max(self.seconds, 1e-6), 1)


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("wrk is not installed: apt-get install wrk (make bench does it as root)")
    return found


def start_wrk(url: str, paths: Path, tokens: Path, rate: float, connections: int, seconds: float,
              out: Path, auth: str = "bearer") -> subprocess.Popen[bytes]:
    """One wrk thread offering ``rate`` requests/s over ``connections`` keep-alive connections;
    ``auth`` "cookie" sends each line of ``tokens`` as the pages' session cookie."""
    env = {**os.environ, "WRK_PATHS": str(paths), "WRK_TOKENS": str(tokens),
           "WRK_RATE": str(rate), "WRK_OUT": str(out), "WRK_AUTH": auth, "WRK_DONE": str(DONE)}
    argv = [wrk_binary(), "-t1", f"-c{connections}", f"-d{int(seconds)}s", "--timeout", "10s",
            "-s", str(SCRIPT), url]
    out.unlink(missing_ok=True)
    with open(out.with_suffix(".log"), "wb") as log:
        return subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)


def run_wrk(
    url: str,
    loads: dict[str, tuple[Path, float]],
    tokens: Path,
    connections: int,
    seconds: float,
    out_dir: Path,
    pids: dict[str, int],
    label: str,
    auth: str = "bearer",
) -> dict[str, WrkRun]:
    """Concurrent wrk processes, one per named load (its paths file and offered rate)."""
    meter = Meter(pids).start()
    outs = {name: out_dir / f"wrk-{label}-{name.replace(':', '-')}.json" for name in loads}
    running = {name: start_wrk(url, paths, tokens, rate, connections, seconds, outs[name], auth)
               for name, (paths, rate) in loads.items()}
    _progress(running, f"wrk {label}", seconds)
    cpu = meter.stop()
    return {name: _result(process, outs[name], f"{label}/{name}", cpu) for name, process in running.items()}


def run_posts(url: str, path: str, bodies: Path, token: str, connections: int, seconds: float,
              out: Path, pids: dict[str, int]) -> WrkRun:
    """Closed-loop POSTs of ``bodies`` (templates, ``@N@`` numbered per request, ``bench/posts.lua``)
    over ``connections`` keep-alive connections for ``seconds``."""
    env = {**os.environ, "WRK_BODIES": str(bodies), "WRK_PATH": path, "WRK_TOKEN": token,
           "WRK_OUT": str(out), "WRK_DONE": str(DONE)}
    argv = [wrk_binary(), "-t1", f"-c{connections}", f"-d{int(seconds)}s", "--timeout", "10s",
            "-s", str(POSTS), url]
    out.unlink(missing_ok=True)
    meter = Meter(pids).start()
    with open(out.with_suffix(".log"), "wb") as log:
        process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
        _progress({"posts": process}, f"wrk {out.stem}", seconds)
    return _result(process, out, out.stem, meter.stop())


def _progress(running: dict[str, subprocess.Popen[bytes]], label: str, seconds: float) -> None:
    started = time.monotonic()
    with tqdm(total=int(seconds), desc=label, unit="s", leave=False) as bar:
        while any(p.poll() is None for p in running.values()):
            time.sleep(0.5)
            bar.n = min(int(time.monotonic() - started), int(seconds))
            bar.refresh()


def _result(process: subprocess.Popen[bytes], out: Path, label: str, cpu: dict[str, float]) -> WrkRun:
    if process.returncode != 0 or not out.exists():
        raise RuntimeError(f"wrk {label} exited with {process.returncode}; see {out.with_suffix('.log')}")
    data = json.loads(out.read_text())
    return WrkRun(
        requests=data["requests"],
        failures=data["non2xx"] + data["socket_errors"] + data["timeouts"],
        seconds=data["duration_us"] / 1e6,
        quantiles_ms=[q / 1000 for q in data["quantiles_us"]],
        cpu=cpu,
    )


def merged(runs: list[WrkRun]) -> dict[str, float | int | None]:
    """Percentiles of several runs together, each quantile weighted by its run's requests."""
    weighted = sorted((q, run.requests / len(run.quantiles_ms)) for run in runs for q in run.quantiles_ms)
    total = sum(w for _, w in weighted)
    if not total:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "max": None}

    def at(p: float) -> float:
        seen = 0.0
        for value, weight in weighted:
            seen += weight
            if seen >= p / 100 * total - 1e-9:
                return round(value, 3)
        return round(weighted[-1][0], 3)

    return {"n": sum(r.requests for r in runs), "p50": at(50), "p95": at(95), "p99": at(99),
            "max": round(weighted[-1][0], 3)}
