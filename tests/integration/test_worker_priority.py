"""The worker processes lower their own CPU priority as their settings say, shares included."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.workers import spawn, wait_until

pytestmark = pytest.mark.integration


def _nice(pid: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, pid)


def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_an_off_path_worker_and_a_path_worker_with_its_shares_run_at_their_configured_nice(settings):
    mine = _nice(0)
    anchor = spawn(settings, "anchor", KARTOTEKA_BACKGROUND_NICE="7", KARTOTEKA_WORKER_NICE="1")
    timeline = spawn(settings, "timeline", KARTOTEKA_BACKGROUND_NICE="7", KARTOTEKA_WORKER_NICE="3")
    try:
        wait_until(lambda: _nice(anchor.pid) == min(19, mine + 7), message="the anchor at background nice")
        wait_until(lambda: _nice(timeline.pid) == min(19, mine + 3), message="the timeline at worker nice")
        # The card + timeline runs as a parent watching its shares: they inherit its priority.
        shares = wait_until(lambda: _children(timeline.pid), message="the timeline's share started")
        assert [_nice(pid) for pid in shares] == [min(19, mine + 3)] * len(shares)
        assert anchor.poll() is None and timeline.poll() is None
    finally:
        for process in (anchor, timeline):
            process.terminate()
        for process in (anchor, timeline):
            process.wait(30)
