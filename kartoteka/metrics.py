"""Prometheus metrics of the workers, and the one endpoint that shows the whole stack.

Every process of a stack writes its metrics to ``PROMETHEUS_MULTIPROC_DIR`` (the supervisor
sets it to ``$KARTOTEKA_DATA_DIR/run/metrics`` for its children; a compose container sets its
own): prometheus_client's multiprocess mode, made for several processes behind one scrape.
``serve`` shows that directory merged, plus the CPU and memory of each process by its title
(``setproctitle``). Without the directory (tests, one process) the metrics stay in-process.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

from kartoteka.lifetime import alive

ENV = "PROMETHEUS_MULTIPROC_DIR"
if os.environ.get(ENV):  # the unlabelled metrics below open their files at once
    os.makedirs(os.environ[ENV], exist_ok=True)
LOCAL = CollectorRegistry()  # this process's worker metrics when no directory is shared
FRESHNESS_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800)

PROCESSED = Counter("kartoteka_worker_processed_records_total",
                    "Records a worker applied to its read model", ["worker"], registry=LOCAL)
LAG = Gauge("kartoteka_worker_consumer_lag_records",
            "Records on the broker a worker has not applied yet", ["worker"],
            registry=LOCAL, multiprocess_mode="livesum")
FRESHNESS = Histogram(
    "kartoteka_worker_freshness_seconds",
    "Seconds from a record's append to its topic until its effects committed; a card's "
    "end-to-end freshness is about the resolver's plus the timeline's (plus the relay's poll)",
    ["worker"], registry=LOCAL, buckets=FRESHNESS_BUCKETS)
DEAD_LETTERS = Counter("kartoteka_dead_letters_total",
                       "Records sent to the dead letter, by worker and reason", ["worker", "reason"],
                       registry=LOCAL)
VERIFIED_AT = Gauge("kartoteka_audit_last_verification_timestamp_seconds",
                    "When the audit chain was last verified (Unix time)", registry=LOCAL,
                    multiprocess_mode="max")
VERIFIED_OK = Gauge("kartoteka_audit_last_verification_ok",
                    "1 when the last verification found the chain intact, else 0",
                    registry=LOCAL, multiprocess_mode="mostrecent")
_NOT_IN_LABEL = re.compile(r"[^A-Za-z0-9_]+")


def committed(worker: str, applied: int, records: Iterable[Any]) -> None:
    """A batch committed: ``applied`` records counted; per partition, the age of its oldest
    record (the batch's worst freshness): a few observations per batch, not one per record."""
    PROCESSED.labels(worker).inc(applied)
    oldest: dict[tuple[str, int], int] = {}
    for record in records:
        key = (record.topic, record.partition)
        if record.timestamp and record.timestamp > 0 and record.timestamp < oldest.get(key, 2**63):
            oldest[key] = record.timestamp
    now_ms = time.time() * 1000
    child = FRESHNESS.labels(worker)
    for stamp in oldest.values():
        child.observe(max(0.0, (now_ms - stamp) / 1000))


def reason_label(reason: str) -> str:
    """A bounded label from a dead-letter reason: its first words, not the record's details."""
    head = reason.split(":", 1)[0].strip().lower()
    return _NOT_IN_LABEL.sub("_", head)[:40].strip("_") or "unknown"


def shared_dir() -> Path | None:
    value = os.environ.get(ENV)
    return Path(value) if value else None


def reset_dir(folder: Path) -> None:
    """An empty metrics directory for a new stack: old processes' counters must not add up."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink(missing_ok=True)


class _PruningCollector(Collector):
    """The directory merged; live-mode gauges of processes that are gone are dropped first."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.merged = MultiProcessCollector(None, path=str(folder))

    def collect(self) -> Iterable:  # type: ignore[type-arg]
        for name in glob.glob(str(self.folder / "gauge_live*_*.db")):
            pid = name.rsplit("_", 1)[-1].removesuffix(".db")
            if pid.isdigit() and not alive(int(pid)):
                mark_process_dead(int(pid), str(self.folder))
        return self.merged.collect()


class ProcessesCollector(Collector):
    """CPU, memory and start time of each process, labelled by its title (setproctitle)."""

    def __init__(self, pids: Callable[[], Iterable[int]]) -> None:
        self.pids = pids
        self.ticks = os.sysconf("SC_CLK_TCK")
        self.page = os.sysconf("SC_PAGE_SIZE")
        with open("/proc/stat") as stat:
            self.boot = next(float(line.split()[1]) for line in stat if line.startswith("btime"))

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        cpu = CounterMetricFamily("process_cpu_seconds", "CPU seconds of the process",
                                  labels=["process", "pid"])
        rss = GaugeMetricFamily("process_resident_memory_bytes", "Resident memory of the process",
                                labels=["process", "pid"])
        start = GaugeMetricFamily("process_start_time_seconds", "Start of the process (Unix time)",
                                  labels=["process", "pid"])
        for pid in sorted(set(self.pids())):
            with contextlib.suppress(OSError, ValueError, IndexError):
                title = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode() or "?"
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                labels = [title, str(pid)]
                cpu.add_metric(labels, (int(fields[11]) + int(fields[12])) / self.ticks)
                rss.add_metric(labels, int(fields[21]) * self.page)
                start.add_metric(labels, self.boot + int(fields[19]) / self.ticks)
        yield from (cpu, rss, start)


def descendants(root: int) -> list[int]:
    """``root`` and every process below it (uvicorn workers, timeline shares)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def registry(pids: Callable[[], Iterable[int]], extra: Iterable[Collector] = (),
             folder: Path | None = None) -> CollectorRegistry:
    """What the stack's endpoint shows: the shared directory (or this process) and processes."""
    merged = CollectorRegistry()
    folder = folder or shared_dir()
    if folder is not None:
        merged.register(_PruningCollector(folder))
    else:
        merged.register(_Delegate(LOCAL))
    merged.register(ProcessesCollector(pids))
    for collector in extra:
        merged.register(collector)
    return merged


class _Delegate(Collector):
    def __init__(self, inner: CollectorRegistry) -> None:
        self.inner = inner

    def collect(self) -> Iterable:  # type: ignore[type-arg]
        return self.inner.collect()


def serve(registry_: CollectorRegistry, host: str, port: int) -> ThreadingHTTPServer:
    """``/metrics`` and ``/healthz`` on a daemon thread; the caller shuts it down."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server interface
            if self.path.split("?")[0] == "/metrics":
                body, kind = generate_latest(registry_), CONTENT_TYPE_LATEST
            elif self.path == "/healthz":
                body, kind = b'{"status": "ok"}', "application/json"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:  # scrapes are not worth a log line each
            return

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server
