"""Watches the pipeline from outside: timeline row count (SQL) and each worker's status file."""

from __future__ import annotations

import threading
import time

from tqdm import tqdm

from bench.stack import Stack

STAGES = ("resolver", "relay", "timeline")
# A count(*) of the timeline reads every row: 70 ms at 300,000 rows. Polled every 0.1 s, it took
# 103 s of PostgreSQL's time during a 300,000-interaction drain (pg_stat_statements), more than
# any statement of the pipeline. Waiting this many times a count's duration between counts keeps
# the watcher under 5% of one core; below ~5 ms a count (20,000 rows) the interval still rules.
COUNT_COST_FACTOR = 20


class Watcher:
    """Samples ``SELECT count(*) FROM timeline`` and the workers' processed counters every ``interval``
    (or ``COUNT_COST_FACTOR`` times what the last count took, when that is longer)."""

    def __init__(self, stack: Stack, interval: float = 0.1) -> None:
        self.stack, self.interval = stack, interval
        self.points: list[tuple[float, int, dict[str, int]]] = []
        self.first_row_at: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="watcher")

    def start(self) -> Watcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    @property
    def latest(self) -> int:
        return self.points[-1][1] if self.points else 0

    def _run(self) -> None:
        with self.stack.connect() as conn:
            while not self._stop.is_set():
                started = time.monotonic()
                row = conn.execute("SELECT count(*) FROM timeline").fetchone()
                took = time.monotonic() - started
                now, count = time.time(), int(row[0]) if row else 0
                if count and self.first_row_at is None:
                    self.first_row_at = now
                stages = {s: int((self.stack.status(s) or {}).get("processed", 0)) for s in STAGES}
                self.points.append((now, count, stages))
                self._stop.wait(max(self.interval, COUNT_COST_FACTOR * took))

    def wait_for(self, rows: int, timeout_s: float, label: str) -> float | None:
        """Epoch time of the first sample with at least ``rows`` timeline rows (None: timed out)."""
        deadline = time.monotonic() + timeout_s
        with tqdm(total=rows, desc=label, unit="row", leave=False) as bar:
            while time.monotonic() < deadline:
                for at, count, _ in self.points[-20:]:
                    if count >= rows:
                        bar.n = rows
                        bar.refresh()
                        return at
                bar.n = min(self.latest, rows)
                bar.refresh()
                time.sleep(self.interval)
        return None

    def series(self, origin: float) -> list[list[float]]:
        """[seconds since origin, timeline rows, resolver, relay, timeline-worker processed]."""
        return [
            [round(at - origin, 2), count, *(stages[s] for s in STAGES)]
            for at, count, stages in self.points
        ]
