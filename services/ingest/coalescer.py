"""Concurrent small deliveries settled together: one duplicate check, one key insert, one produce."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from services.ingest.accept import Accepted, Rejected
from services.ingest.service import ItemResult

Outcome = Accepted | Rejected
Settle = Callable[[list[Outcome]], Awaitable[list[ItemResult]]]
Waiting = tuple[list[Outcome], "asyncio.Future[list[ItemResult]]"]


class Coalescer:
    """Requests hand over their outcomes and await a shared flush.

    A flush settles everything queued in one call (so Kafka is waited for once, not once per
    request) and hands each request its own results, or the flush's error: a failed produce
    answers every request of that flush with the error, never 202. One flush runs at a time;
    what arrives meanwhile waits for the next, so flushes grow with the load, and a repeat of
    an id in flight is settled after it, as a duplicate.
    """

    def __init__(self, settle: Settle, max_items: int = 2_000) -> None:
        self._settle = settle
        self._max_items = max_items
        self._queue: list[Waiting] = []
        self._flushing = False
        self._scheduled = False
        self._tasks: set[asyncio.Task[None]] = set()
        self.flushes = 0

    async def submit(self, outcomes: list[Outcome]) -> list[ItemResult]:
        """This request's results in input order, once the flush carrying it has settled."""
        future: asyncio.Future[list[ItemResult]] = asyncio.get_running_loop().create_future()
        self._queue.append((outcomes, future))
        self._schedule()
        return await future

    def _schedule(self) -> None:
        # Launched on the loop's next turn: requests already runnable join this flush.
        if self._queue and not self._flushing and not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._launch)

    def _launch(self) -> None:
        self._scheduled = False
        if self._flushing or not self._queue:
            return
        taken, size = 0, 0
        while taken < len(self._queue) and (taken == 0 or size + len(self._queue[taken][0]) <= self._max_items):
            size += len(self._queue[taken][0])
            taken += 1
        flush, self._queue = self._queue[:taken], self._queue[taken:]
        self._flushing = True
        task = asyncio.get_running_loop().create_task(self._flush(flush))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _flush(self, flush: list[Waiting]) -> None:
        self.flushes += 1
        try:
            results = await self._settle([o for outcomes, _ in flush for o in outcomes])
        except asyncio.CancelledError:
            for _, future in flush:
                future.cancel()
            raise
        except Exception as exc:
            for _, future in flush:
                if not future.done():
                    future.set_exception(exc)
        else:
            start = 0
            for outcomes, future in flush:
                if not future.done():  # the client went away: its items are settled all the same
                    future.set_result(results[start:start + len(outcomes)])
                start += len(outcomes)
        finally:
            self._flushing = False
            self._schedule()
