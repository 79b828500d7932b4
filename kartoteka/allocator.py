"""glibc malloc settings for every Kartoteka process: fewer per-thread arenas.

glibc gives each new thread that allocates an arena of its own, up to 8 per core; memory freed
in one arena is not reused by another. A worker's threads (kafka-python's heartbeat and sender,
psycopg-pool's workers, DuckDB's) left 7-16 arenas per process, holding 23.6 MB of the
resolver's memory and 73 MB of the duplicate finder's at the end of a drain (bench/README.md,
"Memory of the stack"). Python allocates under the GIL, so the threads seldom contend for one.

``MALLOC_ARENA_MAX`` set in the environment wins (glibc reads it when the process starts); else
the default is applied to this process (``mallopt``, before any thread needs an arena) and put
in the environment, so that every process started from this one (the supervisor's children,
``spawn``-ed HTTP workers) starts with it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
from collections.abc import MutableMapping

log = logging.getLogger(__name__)
ARENAS_ENV = "MALLOC_ARENA_MAX"
DEFAULT_ARENAS = 2
M_ARENA_MAX = -8  # mallopt's parameter number (malloc.h)


def arenas_wanted(environ: MutableMapping[str, str]) -> int | None:
    """The arena limit this process should apply itself: None when the environment sets one
    (glibc applied it at the process's start)."""
    return None if ARENAS_ENV in environ else DEFAULT_ARENAS


def limit_arenas(environ: MutableMapping[str, str] | None = None) -> int | None:
    """Apply the default arena limit to this process and its children; the limit applied, or
    None when the environment chose (or glibc is not the C library)."""
    environ = os.environ if environ is None else environ
    wanted = arenas_wanted(environ)
    if wanted is None:
        return None
    libc = _glibc()
    if libc is None:
        return None
    if not libc.mallopt(M_ARENA_MAX, wanted):
        log.warning("mallopt refused the arena limit", extra={"arenas": wanted})
        return None
    environ[ARENAS_ENV] = str(wanted)
    return wanted


def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.gnu_get_libc_version  # noqa: B018 - glibc only (musl has no arenas to limit)
    except (OSError, AttributeError):
        return None
    return libc
