"""Which employees have left, as every HTTP process sees it: the employees read model plus notes.

The one query of the HTTP layer over a read model (``employees``) is here.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from fastapi import FastAPI

from kartoteka.auth import Principal
from kartoteka.http_errors import ApiError

log = logging.getLogger(__name__)
Known = tuple[str, datetime, datetime]
"""An employee's status, when it takes effect, and when it was changed."""


class EmployeeStatuses:
    """Refuses employees who have left, on every route, from a short-TTL cache.

    One query every ``ttl_s`` reloads every employee who is not active (plus any this
    process changed), so a request costs a dict look-up; a busy process reloads ahead of
    time (past ``ttl_s / 2``) in a task beside its requests. ``note`` applies a change this
    process accepted at once, ahead of the projection, and appends it to ``shared`` (a file
    in the data dir): every process of this host (the uvicorn workers of the api, ingest)
    reads the file when it grew, before its next check, so a departure is refused at once
    by all of them. Other hosts see it within ``ttl_s`` of the employees worker projecting
    it. Until the first load succeeds every request is refused (503): an unknown status
    must not let a departed employee in.
    """

    QUERY = (
        "SELECT employee_id, status, effective_at, changed_at FROM employees"
        " WHERE status <> 'active' OR employee_id = ANY(%s)"
    )

    def __init__(
        self,
        dsn: Callable[[], str],
        ttl_s: float = 2.0,
        note_ttl_s: float = 600,
        shared: Path | None = None,
    ) -> None:
        self.dsn, self.ttl_s, self.note_ttl_s = dsn, ttl_s, note_ttl_s
        self.shared = shared
        self._table: dict[str, Known] | None = None
        self._notes: dict[str, tuple[Known, float]] = {}
        self._loaded_at = 0.0
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._lock = asyncio.Lock()
        self._ahead: asyncio.Task[None] | None = None  # the reload started ahead of time
        self._shared_at = (0, 0)  # (inode, bytes read) of the shared notes file
        if shared is not None:
            # Present from the start: a stat that fails raises, on every request.
            with contextlib.suppress(OSError):
                shared.parent.mkdir(parents=True, exist_ok=True)
                shared.touch(mode=0o600, exist_ok=True)

    async def __call__(self, principal: Principal) -> None:
        age = time.monotonic() - self._loaded_at
        if age > self.ttl_s:
            await self._refresh()
        elif age > self.ttl_s / 2:
            # Reloaded ahead of time, beside the requests: a busy process never makes one of
            # them wait for the query (it was the slowest 1% of reads), and no answer ever
            # relies on a table older than ttl_s (an idle one still reloads above).
            self._refresh_soon()
        if self.shared is not None:
            self._read_shared()
        if self._table is None:
            raise ApiError(503, "status_unavailable", "employee status cannot be checked now")
        if self.has_left(principal.subject, datetime.now(UTC)):
            raise ApiError(403, "employee_left", f"employee {principal.subject} has left")

    def has_left(self, employee_id: str, now: datetime) -> bool:
        note = self._notes.get(employee_id)
        if note is not None and time.monotonic() - note[1] > self.note_ttl_s:
            del self._notes[employee_id]
            note = None
        candidates = [k for k in ((self._table or {}).get(employee_id), note and note[0]) if k]
        if not candidates:
            return False
        status, effective_at, _ = max(candidates, key=lambda k: k[2])
        return status == "left" and effective_at <= now

    def note(self, employee_id: str, status: str, effective_at: datetime, at: datetime) -> None:
        self._note(employee_id, (status, effective_at, at), time.monotonic())
        if self.shared is not None:
            line = json.dumps({"employee_id": employee_id, "status": status, "wall": time.time(),
                               "effective_at": effective_at.isoformat(), "at": at.isoformat()})
            self.shared.parent.mkdir(parents=True, exist_ok=True)
            # One O_APPEND write of a whole line: readers never see half of it interleaved.
            fd = os.open(self.shared, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, (line + "\n").encode())
            finally:
                os.close(fd)

    def _note(self, employee_id: str, known: Known, noted: float) -> None:
        kept = self._notes.get(employee_id)
        if kept is None or kept[0][2] <= known[2]:
            self._notes[employee_id] = (known, noted)

    def _read_shared(self) -> None:
        """Apply the notes other processes appended since the last look (a stat per request)."""
        assert self.shared is not None
        try:
            stat = os.stat(self.shared)
        except FileNotFoundError:
            return
        inode, done = self._shared_at
        if stat.st_ino != inode or stat.st_size < done:
            done = 0  # a new file
        if stat.st_size == done:
            return
        with open(self.shared, "rb") as notes:
            notes.seek(done)
            chunk = notes.read(stat.st_size - done)
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self._shared_at = (stat.st_ino, done + len(complete))
        now_wall, now_mono = time.time(), time.monotonic()
        for line in complete.splitlines():
            try:
                n = json.loads(line)
                known = (str(n["status"]), datetime.fromisoformat(n["effective_at"]),
                         datetime.fromisoformat(n["at"]))
                age = now_wall - float(n["wall"])
            except (ValueError, KeyError, TypeError):
                log.warning("unreadable employee status note skipped", extra={"line": line[:200]})
                continue
            if age <= self.note_ttl_s:
                self._note(str(n["employee_id"]), known, now_mono - max(age, 0.0))

    def _refresh_soon(self) -> None:
        if self._ahead is None or self._ahead.done():
            self._ahead = asyncio.get_running_loop().create_task(self._refresh(self.ttl_s / 2))

    async def _refresh(self, older_than: float | None = None) -> None:
        """Reload the table unless it is no older than ``older_than`` (``ttl_s``) by now."""
        async with self._lock:
            if time.monotonic() - self._loaded_at <= (self.ttl_s if older_than is None else older_than):
                return  # another request refreshed while this one waited
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = await psycopg.AsyncConnection.connect(self.dsn(), autocommit=True)
                rows = await (await self._conn.execute(self.QUERY, (list(self._notes),))).fetchall()
                self._table = {r[0]: (r[1], r[2], r[3]) for r in rows}
                self._loaded_at = time.monotonic()
            except psycopg.Error as exc:
                # Keep the last known table; without one every request is refused.
                log.warning("employee statuses not refreshed", extra={"error": str(exc)})
                await self._disconnect()

    async def close(self) -> None:
        if self._ahead is not None and not self._ahead.done():
            self._ahead.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ahead
        await self._disconnect()

    async def _disconnect(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                await self._conn.close()
            self._conn = None


def install_status_check(app: FastAPI) -> EmployeeStatuses:
    """Refuse departed employees in every ``require_roles`` route; closed with the app."""
    settings = getattr(app.state, "settings", None)
    shared = (
        settings.data_dir / "run" / f"{settings.topic_prefix}employee-status-notes.jsonl"
        if settings is not None else None
    )
    statuses = EmployeeStatuses(lambda: app.state.settings.dsn, shared=shared)
    app.state.status_check = app.state.employee_statuses = statuses
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Any]:
        async with inner(app_) as state:
            try:
                yield state
            finally:
                await statuses.close()

    app.router.lifespan_context = lifespan
    return statuses
