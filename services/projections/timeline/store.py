"""The card + timeline store: rows and tracked positions in one Postgres transaction."""

from __future__ import annotations

from datetime import datetime

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore

from services.projections.timeline.apply import Rows
from services.projections.tracking import Positions

INSERT_CUSTOMER = (
    "INSERT INTO customers (id, registered_at) VALUES (%s, %s)"
    " ON CONFLICT (id) DO UPDATE SET registered_at = LEAST(customers.registered_at, EXCLUDED.registered_at)"
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
    "UPDATE customers SET name = %s, name_at = %s, updated_at = now()"
    " WHERE id = %s AND (name_at IS NULL OR name_at <= %s)"
)
INSERT_TIMELINE = (
    "INSERT INTO timeline (interaction_id, customer_id, seq, external_id, channel, direction,"
    " occurred_at, agent_id, subject, body, details)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb)"
    " ON CONFLICT (interaction_id) DO NOTHING"
)


class TimelineStore:
    """Writes a batch's rows; replaying a batch changes nothing (every write is idempotent)."""

    def __init__(self, datastore: PostgresDatastore, positions: Positions) -> None:
        self.datastore = datastore
        self.positions = positions

    def write(self, rows: Rows, trackings: list[Tracking]) -> None:
        with self.datastore.transaction(commit=True) as curs:
            if rows.customers:
                curs.executemany(INSERT_CUSTOMER, _first_per_key(rows.customers))
            if rows.identifiers:
                curs.executemany(UPSERT_IDENTIFIER, rows.identifiers)
            if rows.timeline:
                curs.executemany(INSERT_TIMELINE, rows.timeline)
            if rows.seen:
                curs.executemany(TOUCH_IDENTIFIER, rows.seen)
            if rows.names:
                curs.executemany(SET_NAME, [(n, at, cid, at) for n, at, cid in rows.names])
            self.positions.record(curs, trackings)


def _first_per_key(rows: list[tuple[str, datetime]]) -> list[tuple[str, datetime]]:
    """One row per customer, earliest time, sorted so concurrent writers lock in one order."""
    earliest: dict[str, datetime] = {}
    for key, at in rows:
        if key not in earliest or at < earliest[key]:
            earliest[key] = at
    return sorted(earliest.items())
