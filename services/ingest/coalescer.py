"""Concurrent small deliveries settled together: one duplicate check, one key insert, one produce."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable

from services.ingest.accept import Accepted, Rejected
from services.ingest.service import ItemResult

Outcome = Accepted | Rejected
Settle = Callable[[list[Outcome]], Awaitable[list[ItemResult]]]
RECENT_FLUSHES = 8  # how far back the expected company is remembered
Waiting = tuple[list[Outcome], "asyncio.Future[list[ItemResult]]"]


class Coalescer:
    """Requests hand over their outcomes and await a shared flush.

    A flush settles everything queued in one call (so Kafka is waited for once, not once per
    request) and hands each request its own results, or the flush's error: a failed produce
    answers every request of that flush with the error, never 202. What arrives while every
    flight runs waits for the next flush.

    A flush starts as soon as as many requests wait as the largest of the last few flushes
    carried (the clients it answered are sending their next ones, still being read), or
    ``linger_s`` after the first of them, whichever is first: a lone delivery goes at once, a
    crowd goes together. One flight by default: a flush's fixed cost (a PostgreSQL round trip,
    a produce request, kafka-python's sender thread) is most of a small delivery's CPU, and
    two flights halved the flushes (bench/README.md, "Single deliveries").

    A request carrying an id that a running flush carries waits until that flush settled,
    and is then a duplicate (or, if that flush failed, a new delivery).
    """

    def __init__(self, settle: Settle, flights: int = 1, max_items: int = 2_000, linger_s: float = 0.0) -> None:
        self._settle = settle
        self._linger_s = linger_s
        self._flights = flights
        self._max_items = max_items
        self._queue: list[Waiting] = []
        self._flying: set[str] = set()  # ids carried by the running flushes
        self._running = 0
        self._scheduled = False
        self._timer: asyncio.TimerHandle | None = None
        # Requests of the last few flushes: their clients' next requests are on their way.
        self._recent: deque[int] = deque([1], maxlen=RECENT_FLUSHES)
        self._tasks: set[asyncio.Task[None]] = set()
        self.flushes = 0

    async def submit(self, outcomes: list[Outcome]) -> list[ItemResult]:
        """This request's results in input order, once the flush carrying it has settled."""
        future: asyncio.Future[list[ItemResult]] = asyncio.get_running_loop().create_future()
        self._queue.append((outcomes, future))
        self._schedule()
        return await future

    def _schedule(self) -> None:
        if not self._queue or self._running >= self._flights:
            return
        loop = asyncio.get_running_loop()
        if self._linger_s <= 0 or len(self._queue) >= max(self._recent):
            # The expected company is here: go on the loop's next turn, without the linger.
            if self._timer is not None:
                self._timer.cancel()
                self._timer, self._scheduled = None, False
            if not self._scheduled:
                self._scheduled = True
                loop.call_soon(self._launch)
        elif not self._scheduled:
            self._scheduled = True
            self._timer = loop.call_later(self._linger_s, self._launch)

    def _launch(self) -> None:
        self._scheduled, self._timer = False, None
        if self._running >= self._flights:
            return
        flush: list[Waiting] = []
        held: list[Waiting] = []
        size = 0
        for waiting in self._queue:
            ids = {o.id for o in waiting[0] if o.id is not None}
            fits = not flush or size + len(waiting[0]) <= self._max_items
            if fits and not ids & self._flying:
                flush.append(waiting)
                size += len(waiting[0])
            else:
                held.append(waiting)
        self._queue = held
        if not flush:
            return
        self._recent.append(len(flush))
        ids = {o.id for outcomes, _ in flush for o in outcomes if o.id is not None}
        self._flying |= ids
        self._running += 1
        task = asyncio.get_running_loop().create_task(self._flush(flush, ids))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _flush(self, flush: list[Waiting], ids: set[str]) -> None:
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
            self._flying -= ids
            self._running -= 1
            self._schedule()
