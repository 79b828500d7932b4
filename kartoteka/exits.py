"""Exit codes of the ``kartoteka`` command and the one-line refusal for expected failures.

An expected condition (a part unreachable, a port taken, no secret yet) is a ``Refusal``: the
command prints one line saying what and how to fix it, and exits with its code. A traceback
means a bug.
"""

from __future__ import annotations

OK = 0
FAILED = 1  # unexpected: a bug or an unhandled condition (logged with its traceback)
USAGE = 2  # bad arguments (argparse)
UNREACHABLE = 3  # PostgreSQL, the broker or the running stack cannot be reached
ENVIRONMENT = 4  # the machine refuses: a port in use, a data dir the database user cannot enter
CRASH_LOOP = 5  # a worker kept crashing; the stack was stopped
NO_SECRET = 6  # no token secret in the data dir (``kartoteka token --init`` creates one)
PARTIAL = 7  # done in part: rebuild kept a model whose log the broker no longer holds
INTERRUPTED = 130  # Ctrl-C

DOCUMENTED = {
    OK: "success",
    FAILED: "unexpected failure (a bug: the traceback is logged)",
    USAGE: "bad arguments",
    UNREACHABLE: "PostgreSQL, the broker or the running stack cannot be reached",
    ENVIRONMENT: "the machine refuses: port in use, data dir not reachable by the database user",
    CRASH_LOOP: "a worker kept crashing; the stack stopped",
    NO_SECRET: "no token secret yet (kartoteka token --init creates one)",
    PARTIAL: "done in part: rebuild kept a model whose log is gone (it says which and why)",
    INTERRUPTED: "interrupted (Ctrl-C)",
}


class Refusal(Exception):
    """An expected failure: one line for the operator, and the exit code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message

    def __str__(self) -> str:
        return self.message
