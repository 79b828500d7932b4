"""Has this interaction been received before? In-process memory first, then the identity store."""

from __future__ import annotations

from collections import OrderedDict

from psycopg_pool import AsyncConnectionPool


class Receipts:
    """Answers duplicate deliveries with the original id, also after a restart.

    Ingest writes nothing before Kafka: what it remembers across restarts is what the
    resolver has recorded (an attribution's id is the interaction id, version 1).
    """

    def __init__(self, pool: AsyncConnectionPool, capacity: int = 200_000) -> None:
        self.pool = pool
        self.capacity = capacity
        self._recent: OrderedDict[str, None] = OrderedDict()

    def remember(self, ids: list[str]) -> None:
        for id_ in ids:
            self._recent[id_] = None
            self._recent.move_to_end(id_)
        while len(self._recent) > self.capacity:
            self._recent.popitem(last=False)

    async def seen(self, ids: list[str]) -> set[str]:
        found = {i for i in ids if i in self._recent}
        missing = [i for i in ids if i not in found]
        if missing:
            async with self.pool.connection() as conn:
                # One array literal instead of a list: psycopg adapts a list element by element,
                # and ids are UUID texts, which need no quoting inside one.
                cursor = await conn.execute(
                    "SELECT originator_id::text FROM identity_events"
                    " WHERE originator_id = ANY(%s::uuid[]) AND originator_version = 1",
                    ("{" + ",".join(missing) + "}",),
                )
                found.update(row[0] for row in await cursor.fetchall())
        return found
