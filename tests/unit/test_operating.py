"""Operating pieces without a stack: stack.json discovery, preflight lines, JSON logs, labels."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

from kartoteka import exits, preflight, stack
from kartoteka.logs import JsonFormatter
from kartoteka.metrics import reason_label
from kartoteka.settings import Settings


def _stack(data_dir: Path, pid: int) -> stack.Stack:
    return stack.Stack(pid=pid, data_dir=str(data_dir), database_url="postgresql://u@h:5/db",
                       kafka_bootstrap_servers="127.0.0.1:19092", host="127.0.0.1",
                       api_port=18000, ingest_port=18001, metrics_port=18002)


def test_commands_find_the_running_stack_and_the_environment_still_wins(tmp_path, monkeypatch):
    for name in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "KARTOTEKA_API_PORT"):
        monkeypatch.delenv(name, raising=False)
    stack.write(_stack(tmp_path, os.getpid()))
    assert stat_mode(stack.path(tmp_path)) == 0o600  # it holds the database URL
    found = stack.discover(Settings(data_dir=tmp_path))
    assert (found.database_url, found.kafka_bootstrap_servers, found.api_port) == (
        "postgresql://u@h:5/db", "127.0.0.1:19092", 18000)
    monkeypatch.setenv("DATABASE_URL", "postgresql://other@x/db")
    monkeypatch.setenv("KARTOTEKA_API_PORT", "9999")
    mine = stack.discover(Settings(data_dir=tmp_path))
    assert (mine.database_url, mine.api_port, mine.ingest_port) == (
        "postgresql://other@x/db", 9999, 18001)


def test_a_stack_whose_supervisor_is_gone_is_not_used(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    stack.write(_stack(tmp_path, _dead_pid()))
    assert stack.running(tmp_path) is None
    settings = stack.discover(Settings(data_dir=tmp_path))
    with pytest.raises(exits.Refusal) as refused:
        stack.needed(settings, "kartoteka demo")
    assert refused.value.code == exits.UNREACHABLE
    assert str(tmp_path) in str(refused.value) and "make run" in str(refused.value)
    assert "\n" not in str(refused.value)


def test_only_the_supervisor_that_wrote_it_removes_stack_json(tmp_path):
    stack.write(_stack(tmp_path, os.getpid()))
    stack.remove(tmp_path, pid=os.getpid() + 1)
    assert stack.read(tmp_path) is not None
    stack.remove(tmp_path, pid=os.getpid())
    assert stack.read(tmp_path) is None


def test_a_busy_port_is_refused_in_one_line_naming_the_setting():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(exits.Refusal) as refused:
            preflight.port_free("127.0.0.1", port, "api", "KARTOTEKA_API_PORT")
    assert refused.value.code == exits.ENVIRONMENT
    assert f"port {port}" in str(refused.value) and "KARTOTEKA_API_PORT" in str(refused.value)
    preflight.port_free("127.0.0.1", port, "api", "KARTOTEKA_API_PORT")  # free again


def test_an_unreachable_broker_and_database_are_refused_without_the_password():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(exits.Refusal) as broker:
        preflight.broker_reachable(f"127.0.0.1:{port}")
    assert broker.value.code == exits.UNREACHABLE and "KAFKA_BOOTSTRAP_SERVERS" in str(broker.value)
    with pytest.raises(exits.Refusal) as database:
        preflight.database_reachable(f"postgresql://kartoteka:hunter2@127.0.0.1:{port}/kartoteka")
    assert database.value.code == exits.UNREACHABLE
    assert "hunter2" not in str(database.value) and "DATABASE_URL" in str(database.value)


@pytest.mark.skipif(os.geteuid() != 0, reason="the embedded server changes user only under root")
def test_a_data_dir_the_database_user_cannot_enter_is_refused():
    root = Path(tempfile.mkdtemp(prefix="kartoteka-preflight-"))  # pytest's tmp_path is 0700
    root.chmod(0o755)
    private = root / "private"
    private.mkdir(mode=0o700)
    with pytest.raises(exits.Refusal) as refused:
        preflight.data_dir_reachable(private / "data")
    assert refused.value.code == exits.ENVIRONMENT
    assert f"cannot enter {private}" in str(refused.value) and "chmod o+x" in str(refused.value)
    private.chmod(0o711)
    preflight.data_dir_reachable(private / "data")
    shutil.rmtree(root)


def test_json_logs_carry_no_terminal_colours():
    record = logging.LogRecord("uvicorn.error", logging.INFO, "", 0, "Started \x1b[36mserver\x1b[0m",
                               None, None)
    record.color_message = "Started \x1b[1mserver process\x1b[0m"
    line = JsonFormatter("api").format(record)
    assert "\x1b" not in line and "\\u001b" not in line
    assert json.loads(line)["msg"] == "Started server"


def test_dead_letter_reasons_become_bounded_labels():
    assert reason_label("invalid interaction: customer.phone: bad digits '+7 999'") == \
        "invalid_interaction"
    assert reason_label("KeyError: 'x'") == "keyerror"
    assert reason_label("") == "unknown"


def test_the_data_dir_is_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert Settings(data_dir=Path("rel")).data_dir == tmp_path.resolve() / "rel"


def stat_mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def _dead_pid() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def test_a_crash_loop_is_n_exits_within_the_window():
    from kartoteka.crashloop import CrashLoop

    loop = CrashLoop(limit=3, window_s=10)
    assert not loop.exited(0) and not loop.exited(4)
    assert not loop.exited(20)  # the first two fell out of the window
    assert not loop.exited(25)
    assert loop.exited(29)
    assert "3 times within 10 s" in loop.describe("api", 1)


def test_the_demo_sample_is_a_russian_contact_center_week():
    from datetime import UTC, datetime, timedelta

    from events.identifiers import normalise_phone
    from kartoteka.entrypoints.demo.load import build
    from services.ingest.accept import Accepted, accept
    from tests.support.ids import SECRET

    now = datetime(2026, 12, 6, 12, tzinfo=UTC)
    sample = build(Settings(), 8, 1, now)
    items = sample.interactions
    assert {i["channel"] for i in items} == {"call", "email", "chat", "sms", "web_form"}
    assert all(isinstance(accept(i, SECRET), Accepted) for i in items[:500])  # the contract takes them
    assert all(re.fullmatch(r"[А-ЯЁ][а-яё]+ [А-ЯЁ][а-яё]+", i["customer"]["name"]) for i in items)
    assert all(normalise_phone(i["customer"]["phone"]).startswith("+79") for i in items[:200])
    times = [datetime.fromisoformat(i["occurred_at"]) for i in items]
    assert min(times) < now - timedelta(days=7) and max(times) <= now
    assert sorted(kind for _, kind in sample.suspicious) == ["breadth", "enumeration"]
    assert build(Settings(), 8, 1, now).interactions == items  # a second load changes nothing
