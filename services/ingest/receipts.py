"""Has this interaction been received before? In-process memory first, then the identity store."""

from __future__ import annotations

from collections import OrderedDict

from kartoteka.keystore import issue_rows

# What the resolver recorded (an attribution's id is the interaction id, version 1) is a
# duplicate; the others get their data keys, in the same statement: one round trip per flush
# instead of a duplicate check and a key INSERT after it. Rows: (subject, wrapped key) issued,
# and (id, NULL) for each id recorded before.
SEEN_THEN_ISSUE = (
    "WITH seen AS (SELECT originator_id::text AS id FROM identity_events"
    " WHERE originator_id = ANY(%b::text[]::uuid[]) AND originator_version = 1),"
    " fresh AS (SELECT f.s, f.w FROM unnest(%b::text[], %b::bytea[], %b::text[]) AS f(s, w, id)"
    " WHERE f.id NOT IN (SELECT id FROM seen)),"
    f" issued AS ({issue_rows('fresh')})"
    " SELECT subject, wrapped FROM issued UNION ALL SELECT id, NULL FROM seen"
)


class Receipts:
    """The ids this process produced lately, answered as duplicates without asking PostgreSQL.

    Ingest writes nothing before Kafka: what it remembers across restarts (and across its
    worker processes) is what the resolver has recorded, which ``SEEN_THEN_ISSUE`` asks.
    """

    def __init__(self, capacity: int = 200_000) -> None:
        self.capacity = capacity
        self._recent: OrderedDict[str, None] = OrderedDict()

    def remember(self, ids: list[str]) -> None:
        for id_ in ids:
            self._recent[id_] = None
            self._recent.move_to_end(id_)
        while len(self._recent) > self.capacity:
            self._recent.popitem(last=False)

    def recent(self, ids: list[str]) -> set[str]:
        recent = self._recent
        return {i for i in ids if i in recent}
