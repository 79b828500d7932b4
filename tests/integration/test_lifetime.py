"""Children die with their parent (kartoteka.lifetime), the guard every process tree relies on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

# A parent that starts a long sleeper with preexec(), prints the sleeper's pid, then waits.
PARENT = textwrap.dedent("""
    import subprocess, sys, time
    from kartoteka.lifetime import preexec
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], preexec_fn=preexec())
    print(child.pid, flush=True)
    time.sleep(120)
""")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is dead already
    except FileNotFoundError:
        return False


def test_a_child_dies_when_its_parent_is_killed() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    assert _alive(child)
    parent.send_signal(signal.SIGKILL)
    parent.wait(10)
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(child):  # do not leave it behind, but fail
        os.kill(child, signal.SIGKILL)
    assert not _alive(child)


def test_a_child_whose_parent_is_already_gone_exits_at_once() -> None:
    # Its expected parent (pid 1 here stands for "not the one it has") is not its parent: the
    # death signal would never come, so it must not start.
    found = subprocess.run(
        [sys.executable, "-c", "from kartoteka.lifetime import die_with_parent; die_with_parent(15, 1); print('ran')"],
        capture_output=True, text=True, timeout=30, check=False,
    )
    assert found.returncode == 1
    assert "the parent process is gone" in found.stderr
    assert "ran" not in found.stdout
