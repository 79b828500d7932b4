"""``kartoteka serve`` as a real process with several uvicorn workers (the default)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
import urllib.request
from pathlib import Path

from kartoteka.auth import Role, mint
from kartoteka.settings import Settings
from tests.support.served import ready, served

WORKERS = 2


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
        except OSError:  # the process went away while we looked
            continue
        if fields.get("PPid", "").strip() != str(pid):
            continue
        with contextlib.suppress(OSError):  # uvicorn's workers, not multiprocessing's resource tracker
            command = (status.parent / "cmdline").read_bytes()
            # Named "kartoteka <service> http-worker" (setproctitle) once started.
            if b"http-worker" in command or b"spawn_main" in command:
                found.add(int(status.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait(condition, what: str, timeout_s: float = 60):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")



def test_every_worker_serves_and_none_outlives_a_killed_manager(settings: Settings) -> None:
    with served(settings, "ingest", WORKERS) as (manager, url):

        def all_workers() -> set[int] | None:
            found = _children(manager.pid)
            return found if len(found) >= WORKERS else None

        workers = _wait(all_workers, f"{WORKERS} worker processes")
        assert len(workers) == WORKERS

        token = mint(settings.secret, "serve-test", Role.channel, 600)
        item = {"channel": "sms", "external_id": "serve-1", "occurred_at": "2026-11-20T10:00:00+03:00",
                "direction": "inbound", "customer": {"phone": "+7 912 000-11-22"}}
        request = urllib.request.Request(f"{url}/v1/interactions", data=json.dumps(item).encode(),
                                         headers={"Authorization": f"Bearer {token}",
                                                  "content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 202

        os.kill(manager.pid, signal.SIGKILL)
        manager.wait(10)
        # Orphaned workers would keep the port and answer with a configuration nobody supervises.
        _wait(lambda: not any(_alive(pid) for pid in workers), "the workers to exit")
        assert not ready(url)


def _anonymous_shared_mb(pid: int) -> float:
    """Anonymous memory this process shares with others (its manager): resident minus its share."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, rest = line.partition(":")
        fields[name] = int(rest.split()[0])
    return (fields["Anonymous"] - fields["Pss_Anon"]) / 1024


def test_workers_share_the_managers_imports_and_a_dead_one_is_replaced_sharing_them_too(
        settings: Settings) -> None:
    with served(settings, "api", WORKERS) as (manager, url):
        def all_workers() -> set[int] | None:
            found = _children(manager.pid)
            return found if len(found) >= WORKERS else None

        workers = _wait(all_workers, f"{WORKERS} worker processes")
        # Forked after the manager imported the service: its modules' pages are shared, not copied.
        assert all(_anonymous_shared_mb(pid) > 10 for pid in workers)
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        replaced = _wait(lambda: _children(manager.pid) - workers, "a replacement worker")
        _wait(lambda: ready(url), "the service to answer")
        assert all(_anonymous_shared_mb(pid) > 10 for pid in replaced)


def test_a_service_run_on_its_own_serves_its_workers_metrics_as_in_compose(settings: Settings) -> None:
    # docker-compose.yml sets the metrics port: the manager's metrics server (a thread) starts
    # once the workers are forked, and shows their figures.
    from kartoteka.embedded import free_port

    port = free_port()
    with served(settings, "ingest", WORKERS, {"KARTOTEKA_METRICS_PORT": str(port)}) as (manager, _):
        def metrics() -> str | None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
                    text: str = answer.read().decode()
            except OSError:
                return None
            return text if "http-worker" in text else None

        text = _wait(metrics, "the workers' metrics")
        assert 'process="kartoteka ingest http-worker"' in text
        assert all(_anonymous_shared_mb(pid) > 10 for pid in _children(manager.pid))
