"""Child processes that die with their parent (Linux ``PR_SET_PDEATHSIG``).

A child that outlives its parent (kill -9 of the supervisor, a serve manager, a worker, a
bench) keeps running what nobody supervises: a restarted parent would start a second one
beside it, on the same port or the same partitions.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
from collections.abc import Callable

PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGTERM, parent: int | None = None) -> None:
    """Have the kernel send ``sig`` to this process when its parent dies.

    ``parent`` is the pid this process expects as its parent (by default its multiprocessing
    parent, if any): when that one already died while this process was starting, the signal
    will never come, so exit now. Where there is no ``prctl`` (not Linux), children rely on
    their parent's clean stop.
    """
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, sig)
    except OSError:
        return
    if parent is None:
        found = multiprocessing.parent_process()
        parent = found.pid if found is not None else None
    if parent is not None and os.getppid() != parent:
        raise SystemExit("the parent process is gone")


def preexec(sig: int = signal.SIGTERM) -> Callable[[], None]:
    """A ``subprocess.Popen(preexec_fn=...)``: the child dies with the process starting it."""
    parent = os.getpid()
    return lambda: die_with_parent(sig, parent)


def alive(pid: int) -> bool:
    """Whether a process with this id exists (one of another user counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
