"""py-spy sampling of the service processes during a phase (``--profile``), summarised per function.

``py-spy record --format raw --function`` writes collapsed stacks; we count, per process, the share
of CPU samples whose innermost frame is a function (self) and that pass through it (inclusive).
The stacks are kept beside the report (``bench/results/profiles/``): flamegraph.pl or
speedscope.app draw them as flame graphs.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import flame
from bench.stack import REPO

TOP = 12
PROJECT = ("services/", "events/", "kartoteka/")  # inclusive shares are shown for our own code


@dataclass
class Recording:
    """One py-spy process sampling one service process."""

    name: str
    process: subprocess.Popen[bytes]
    path: Path


class Profiler:
    """Starts py-spy on demand; a no-op unless enabled (py-spy itself costs some CPU)."""

    def __init__(self, out: Path, enabled: bool, keep: Path | None = None, gil: bool = False) -> None:
        self.out = out
        self.gil = gil  # sample only the thread holding the GIL: Python's CPU, not its waits
        self.keep = keep  # where the collapsed stacks and flame graphs stay (bench/results/profiles)
        self.binary = shutil.which("py-spy") or str(Path(REPO / ".venv" / "bin" / "py-spy"))
        self.enabled = enabled and Path(self.binary).exists()

    def start(self, label: str, pids: dict[str, int], seconds: float) -> list[Recording]:
        if not self.enabled:
            return []
        recordings = []
        for name, pid in pids.items():
            path = self.out / f"profile-{label}-{name}.txt"
            argv = [
                self.binary, "record", "--format", "raw", "--function", "--nonblocking",
                "--subprocesses",  # the HTTP services run as uvicorn worker processes
                "-r", "50", "-d", str(max(1, int(seconds))), "-p", str(pid), "-o", str(path),
                *(["--gil"] if self.gil else []),
            ]
            process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            recordings.append(Recording(name, process, path))
        return recordings

    def finish(self, recordings: list[Recording]) -> dict[str, Any]:
        found = {}
        for rec in recordings:  # stopped now: the profile covers the phase, however long it took
            if rec.process.poll() is None:
                rec.process.send_signal(signal.SIGINT)
        for rec in recordings:
            try:
                rec.process.wait(120)
            except subprocess.TimeoutExpired:
                rec.process.terminate()
                rec.process.wait()
            if rec.path.exists():
                found[rec.name] = summarise(rec.path.read_text())
                if self.keep is not None:
                    flame.write(rec.path, self.keep, rec.path.stem)
        return found


def summarise(collapsed: str) -> dict[str, Any]:
    """Top functions by self and inclusive share of samples, from py-spy's collapsed stacks."""
    own: Counter[str] = Counter()
    through: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_short(f) for f in stack.split(";")]
        total += count
        own[frames[-1]] += count
        packages[_package(frames[-1])] += count
        for frame in set(frames):
            if frame.split(" (", 1)[-1].startswith(PROJECT) and not frame.endswith("(kartoteka/entrypoints/cli.py)"):
                through[frame] += count
    share = lambda c: round(100 * c / max(total, 1), 1)  # noqa: E731
    return {
        "samples": total,
        "self": [(f, share(c)) for f, c in own.most_common(TOP)],
        "inclusive": [(f, share(c)) for f, c in through.most_common(TOP)],
        "by_package": [(p, share(c)) for p, c in packages.most_common(TOP)],
    }


def _package(frame: str) -> str:
    """Where a frame's code lives: the top-level package, or the project's module path."""
    path = frame.split(" (", 1)[-1].rstrip(")")
    if path.startswith(PROJECT):
        return path.rsplit("/", 1)[0] + "/"
    return path.split("/", 1)[0].removesuffix(".py") if "/" in path else "stdlib:" + path


def _short(frame: str) -> str:
    """``func (path/to/file.py:12)`` -> ``func (file.py)`` relative to the repo or site-packages."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", str(REPO) + "/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{name} ({path})" if path else name
