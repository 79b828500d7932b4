"""The card + timeline store: rows and tracked positions in one Postgres transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore

from events.names import latin
from services.projections.timeline.apply import Rows
from services.projections.tracking import Positions

INSERT_CUSTOMER = (
    "INSERT INTO customers (id, registered_at) VALUES (%s, %s) ON CONFLICT (id) DO UPDATE"
    " SET registered_at = LEAST(customers.registered_at, EXCLUDED.registered_at)"
)
UPSERT_IDENTIFIER = (
    "INSERT INTO customer_identifiers (customer_id, kind, value, valid, channel, first_seen, last_seen)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s)"
    " ON CONFLICT (customer_id, kind, value) DO UPDATE SET"
    " first_seen = LEAST(customer_identifiers.first_seen, EXCLUDED.first_seen),"
    " last_seen = GREATEST(customer_identifiers.last_seen, EXCLUDED.last_seen)"
)
TOUCH_IDENTIFIER = (
    "UPDATE customer_identifiers SET last_seen = GREATEST(last_seen, %s)"
    " WHERE customer_id = %s AND kind = %s AND value = %s"
)
# The latest explicit name wins, whatever order the events arrive in.
SET_NAME = (
    "UPDATE customers SET name = %s, search_latin = %s, name_at = %s, updated_at = now()"
    " WHERE id = %s AND (name_at IS NULL OR name_at <= %s)"
)
INSERT_TIMELINE = (
    "INSERT INTO timeline (interaction_id, customer_id, seq, external_id, channel, direction,"
    " occurred_at, agent_id, subject, body, details)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb)"
    " ON CONFLICT (interaction_id) DO NOTHING"
)
# A merge re-roots the merged customer and everything already rooted at it; applying it
# twice, or after a later merge of the survivor, ends in the same roots.
MERGE = (
    "WITH survivor AS (SELECT coalesce(root_id, id) AS root FROM customers WHERE id = %(survivor)s)"
    " UPDATE customers SET root_id = (SELECT root FROM survivor),"
    " merged_into = CASE WHEN id = %(merged)s THEN %(survivor)s ELSE merged_into END, updated_at = now()"
    " WHERE coalesce(root_id, id) = %(merged)s OR id = %(merged)s"
)
UNLINK = (
    "DELETE FROM customer_identifiers ci USING customers c, customers s"
    " WHERE s.id = %s AND ci.customer_id = c.id"
    " AND coalesce(c.root_id, c.id) = coalesce(s.root_id, s.id) AND ci.kind = %s AND ci.value = %s"
)
REATTRIBUTE = "UPDATE timeline SET customer_id = %s WHERE interaction_id = %s"
INSERT_HISTORY = (
    "INSERT INTO customer_history (event_id, customer_id, kind, other_ids, at, evidence)"
    " VALUES (%s, %s, %s, %s::uuid[], %s, %s::jsonb) ON CONFLICT (event_id) DO NOTHING"
)


class TimelineStore:
    """Writes a batch's rows; replaying a batch changes nothing (every write is idempotent)."""

    def __init__(self, datastore: PostgresDatastore, positions: Positions) -> None:
        self.datastore = datastore
        self.positions = positions

    def write(self, rows: Rows, trackings: list[Tracking]) -> None:
        self.positions.commit(_statements(rows), trackings)


def _statements(rows: Rows) -> list[tuple[str, list[Any]]]:
    planned: list[tuple[str, list[Any]]] = [
        (INSERT_CUSTOMER, _first_per_key(rows.customers)),
        (UPSERT_IDENTIFIER, rows.identifiers),
        (INSERT_TIMELINE, rows.timeline),
        (TOUCH_IDENTIFIER, _latest_seen(rows.seen)),
        (SET_NAME, [(n, latin(n), at, cid, at) for n, at, cid in _latest_names(rows.names)]),
        (MERGE, [{"merged": m, "survivor": s} for m, s in rows.merges]),
        (UNLINK, rows.unlinks),
        (REATTRIBUTE, rows.reattributions),
        (INSERT_HISTORY, rows.history),
    ]
    return [(statement, params) for statement, params in planned if params]


def _latest_seen(seen: list[tuple[datetime, str, str, str]]) -> list[tuple[datetime, str, str, str]]:
    """One update per identifier per batch (a busy customer appears many times in one batch)."""
    latest: dict[tuple[str, str, str], datetime] = {}
    for at, *key in seen:
        k = (key[0], key[1], key[2])
        if k not in latest or at > latest[k]:
            latest[k] = at
    return sorted((at, *k) for k, at in latest.items())  # type: ignore[misc]


def _latest_names(names: list[tuple[str, datetime, str]]) -> list[tuple[str, datetime, str]]:
    latest: dict[str, tuple[str, datetime, str]] = {}
    for name, at, cid in names:
        if cid not in latest or at >= latest[cid][1]:
            latest[cid] = (name, at, cid)
    return sorted(latest.values(), key=lambda row: row[2])


def _first_per_key(rows: list[tuple[str, datetime]]) -> list[tuple[str, datetime]]:
    """One row per customer, earliest time, sorted so concurrent writers lock in one order."""
    earliest: dict[str, datetime] = {}
    for key, at in rows:
        if key not in earliest or at < earliest[key]:
            earliest[key] = at
    return sorted(earliest.items())
