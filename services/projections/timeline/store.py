"""The card + timeline store: rows and tracked positions in one Postgres transaction.

A batch is copied (COPY) into per-connection staging tables and merged into the read models
with one set-based statement per table: per-row statements cost PostgreSQL an executor run
each and the worker a parameter round per row. Every merge is idempotent, so a replayed
batch stores nothing twice, and writes only what changes: the card tables carry trigram and
full-text indexes, and an update that changes nothing still costs a new row version there.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

import psycopg
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore

from events.names import latin
from services.projections import erased_rows
from services.projections.timeline.apply import Rows
from services.projections.timeline.reports import REPORT_ROWS
from services.projections.tracking import Positions

# Staging tables live as long as their connection; ON COMMIT DELETE ROWS empties them at
# every commit, and a rolled-back batch leaves nothing behind either.
STAGING = (
    "CREATE TEMP TABLE IF NOT EXISTS timeline_stage_customers (id uuid, registered_at timestamptz,"
    " name text, search_latin text, name_at timestamptz) ON COMMIT DELETE ROWS",
    # Links (first_seen set: inserted when new) and sightings (first_seen null: update only).
    "CREATE TEMP TABLE IF NOT EXISTS timeline_stage_identifiers (customer_id uuid, kind text,"
    " value text, valid boolean, channel text, first_seen timestamptz, last_seen timestamptz)"
    " ON COMMIT DELETE ROWS",
    "CREATE TEMP TABLE IF NOT EXISTS timeline_stage_rows (interaction_id uuid, customer_id uuid,"
    " seq bigint, external_id text, channel text, direction text, occurred_at timestamptz,"
    " agent_id text, subject text, body text, details jsonb) ON COMMIT DELETE ROWS",
)
COPY_CUSTOMERS = (
    "COPY timeline_stage_customers (id, registered_at, name, search_latin, name_at) FROM STDIN"
)
COPY_IDENTIFIERS = (
    "COPY timeline_stage_identifiers (customer_id, kind, value, valid, channel, first_seen,"
    " last_seen) FROM STDIN"
)
COPY_TIMELINE = (
    "COPY timeline_stage_rows (interaction_id, customer_id, seq, external_id, channel, direction,"
    " occurred_at, agent_id, subject, body, details) FROM STDIN"
)

# A batch is a few thousand rows against tables of any size: look each key up by index.
# Without statistics on the staging tables the planner hashed the whole customers table
# for every statement of every batch.
INDEX_JOINS = ("SET LOCAL enable_hashjoin = off", "SET LOCAL enable_mergejoin = off")
# New customers only: for a known one the insert would compute its search columns (generated,
# full-text) and lock the row just to find the conflict.
INSERT_CUSTOMERS = (
    "INSERT INTO customers (id, registered_at, name, search_latin, name_at)"
    " SELECT s.id, s.registered_at, s.name, s.search_latin, s.name_at"
    " FROM timeline_stage_customers s"
    " WHERE NOT EXISTS (SELECT FROM customers c WHERE c.id = s.id)"
    " ON CONFLICT (id) DO NOTHING"
)
# A known customer: an earlier registration, or its name seen again later. Only name_at and
# registered_at are set, so PostgreSQL does not recompute the generated search columns, and
# with no indexed column changed the update stays on its page (HOT).
RESEEN_CUSTOMERS = (
    "UPDATE customers c SET registered_at = LEAST(c.registered_at, s.registered_at),"
    " name_at = CASE WHEN c.name = s.name AND (c.name_at IS NULL OR c.name_at < s.name_at)"
    " THEN s.name_at ELSE c.name_at END"
    " FROM timeline_stage_customers s WHERE c.id = s.id AND (s.registered_at < c.registered_at"
    " OR (c.name = s.name AND (c.name_at IS NULL OR c.name_at < s.name_at)))"
)
# The latest explicit name wins, whatever order the events arrive in (ties: the later event).
RENAME_CUSTOMERS = (
    "UPDATE customers c SET name = s.name, search_latin = s.search_latin, name_at = s.name_at,"
    " updated_at = now() FROM timeline_stage_customers s"
    " WHERE c.id = s.id AND s.name_at IS NOT NULL AND c.name IS DISTINCT FROM s.name"
    " AND (c.name_at IS NULL OR c.name_at <= s.name_at)"
)
INSERT_IDENTIFIERS = (
    "INSERT INTO customer_identifiers"
    " (customer_id, kind, value, valid, channel, first_seen, last_seen)"
    " SELECT s.customer_id, s.kind, s.value, s.valid, s.channel, s.first_seen, s.last_seen"
    " FROM timeline_stage_identifiers s WHERE s.first_seen IS NOT NULL AND NOT EXISTS"
    " (SELECT FROM customer_identifiers ci"
    " WHERE ci.customer_id = s.customer_id AND ci.kind = s.kind AND ci.value = s.value)"
    " ON CONFLICT (customer_id, kind, value) DO NOTHING"
)
# Links widen first/last seen; sightings (first_seen null, which LEAST ignores) move last_seen.
WIDEN_IDENTIFIERS = (
    "UPDATE customer_identifiers ci SET first_seen = LEAST(ci.first_seen, s.first_seen),"
    " last_seen = GREATEST(ci.last_seen, s.last_seen) FROM timeline_stage_identifiers s"
    " WHERE ci.customer_id = s.customer_id AND ci.kind = s.kind AND ci.value = s.value"
    " AND (s.first_seen < ci.first_seen OR s.last_seen > ci.last_seen)"
)
# The rows actually inserted (not a redelivery) also feed the report projections in the same
# statement (kartoteka/migrations/030_work.sql): each interaction counts once, whatever replays.
INSERT_TIMELINE = (
    "WITH new AS (INSERT INTO timeline (interaction_id, customer_id, seq, external_id, channel,"
    " direction, occurred_at, agent_id, subject, body, details)"
    " SELECT interaction_id, customer_id, seq, external_id, channel, direction, occurred_at,"
    " agent_id, subject, body, details FROM timeline_stage_rows"
    " ON CONFLICT (interaction_id) DO NOTHING"
    " RETURNING interaction_id, customer_id, channel, direction, occurred_at, agent_id, details),"
    + REPORT_ROWS
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
# After its unlinks, a split takes along every merged-in member left without identifiers: the
# part that member brought in is what moved, so its id (and the profile written to it) now
# answers with the target's card; an undone merge gives each side its own profile back.
SPLIT_MEMBERS = (
    "WITH source AS (SELECT coalesce(root_id, id) AS root FROM customers WHERE id = %(source)s)"
    " UPDATE customers m SET root_id = coalesce((SELECT coalesce(root_id, id) FROM customers"
    " WHERE id = %(target)s), %(target)s), merged_into = %(target)s, updated_at = now() FROM source"
    " WHERE coalesce(m.root_id, m.id) = source.root AND m.id <> source.root AND m.id <> %(target)s"
    " AND NOT EXISTS (SELECT FROM customer_identifiers i WHERE i.customer_id = m.id)"
)
INSERT_HISTORY = (
    "INSERT INTO customer_history (event_id, customer_id, kind, other_ids, at, evidence)"
    " VALUES (%s, %s, %s, %s::uuid[], %s, %s::jsonb) ON CONFLICT (event_id) DO NOTHING"
)

# Merges and unlinks read customers' roots and re-root other customers' rows, which may live
# on partitions another process of the projection writes (shares): a batch that has any takes
# this lock first, so two of them apply one after the other, each seeing the other's roots
# (under READ COMMITTED, every statement sees what committed before it). Taken before the
# batch's other writes, so it waits holding no row lock. The rest of a batch needs no lock.
ROOTS_LOCK = "SELECT pg_advisory_xact_lock(7202604011)"

IdentifierKey = tuple[str, str, str]  # (customer id, kind, value)
# (customer id, kind, value, valid, channel, first_seen, last_seen); a sighting has no
# valid, channel or first_seen.
IdentifierRow = tuple[str, str, str, bool | None, str | None, datetime | None, datetime]
# Pure, and the same few thousand names come back in every batch.
_latin = lru_cache(maxsize=65536)(latin)


@dataclass
class Plan:
    """One batch, folded to one row per key, in the order the statements apply it."""

    customers: list[tuple[str, datetime, str | None, str | None, datetime | None]]
    identifiers: list[IdentifierRow]
    timeline: list[tuple[object, ...]]
    rare: list[tuple[str, list[Any]]] = field(default_factory=list)

    def copies(self) -> list[tuple[str, Sequence[Sequence[Any]]]]:
        return [(copy, rows) for copy, rows in ((COPY_CUSTOMERS, self.customers),
                                                (COPY_IDENTIFIERS, self.identifiers),
                                                (COPY_TIMELINE, self.timeline)) if rows]

    def statements(self) -> list[str]:
        planned = [
            (INSERT_CUSTOMERS, self.customers),
            (RESEEN_CUSTOMERS, self.customers),
            (RENAME_CUSTOMERS, self.customers),
            (INSERT_IDENTIFIERS, self.identifiers),
            (INSERT_TIMELINE, self.timeline),
            (WIDEN_IDENTIFIERS, self.identifiers),  # after the inserts: as the old per-row touch
        ]
        return [statement for statement, rows in planned if rows]


class TimelineStore:
    """Writes a batch's rows; replaying a batch changes nothing (every write is idempotent)."""

    def __init__(self, datastore: PostgresDatastore, positions: Positions) -> None:
        self.datastore = datastore
        self.positions = positions
        self._staged: weakref.WeakSet[psycopg.Connection[Any]] = weakref.WeakSet()

    def write(self, rows: Rows, trackings: list[Tracking]) -> None:
        work = plan(rows)
        with self.datastore.get_connection() as conn:
            self._stage(conn)
            with conn.transaction(), conn.cursor() as cur:
                if work.rare:
                    cur.execute(ROOTS_LOCK)
                for statement, copy_rows in work.copies():
                    with cur.copy(statement) as copy:
                        for row in copy_rows:
                            copy.write_row(row)
                # One round trip for the merges, the rare per-event statements and the positions.
                with conn.pipeline():
                    for statement in INDEX_JOINS:
                        cur.execute(statement)
                    for statement in work.statements():
                        # Prepared: planning them was a few milliseconds a batch, which a
                        # caught-up worker's small batches pay over and over.
                        cur.execute(statement, prepare=True)
                    for statement, params in work.rare:
                        cur.executemany(statement, params)
                    recorded = self.positions.record_pipelined(conn.cursor(), trackings)
                recorded()

    def _stage(self, conn: psycopg.Connection[Any]) -> None:
        # Created outside the batch's transaction: a rolled-back batch must not take them along.
        if conn in self._staged:
            return
        for statement in STAGING:
            conn.execute(statement)
        self._staged.add(conn)


def plan(rows: Rows) -> Plan:
    """Fold a batch's rows into one row per key (a busy customer appears many times in one batch)."""
    return Plan(
        customers=_customers(rows.customers, rows.names),
        identifiers=_identifiers(rows.identifiers, rows.seen),
        timeline=rows.timeline,
        rare=[(statement, params) for statement, params in (
            (MERGE, [{"merged": m, "survivor": s} for m, s in rows.merges]),
            (UNLINK, rows.unlinks),
            (SPLIT_MEMBERS, [{"source": a, "target": b} for a, b in rows.splits]),
            (REATTRIBUTE, rows.reattributions),
            (INSERT_HISTORY, rows.history),
        ) if params] + erased_rows.statements(rows.erasures),
    )


def _customers(
    registered: Iterable[tuple[str, datetime]], names: Iterable[tuple[str, datetime, str]]
) -> list[tuple[str, datetime, str | None, str | None, datetime | None]]:
    """Earliest time and latest name per customer (of equal times, the later event's name).

    Sorted by id: the updates walk the staging rows in order, so concurrent writers lock
    customers in one order.
    """
    earliest: dict[str, datetime] = {}
    for key, at in registered:
        known = earliest.get(key)
        if known is None or at < known:
            earliest[key] = at
    latest: dict[str, tuple[str, datetime]] = {}
    for name, at, cid in names:
        known_name = latest.get(cid)
        if known_name is None or at >= known_name[1]:
            latest[cid] = (name, at)
    out: list[tuple[str, datetime, str | None, str | None, datetime | None]] = []
    for cid in sorted(earliest):
        named = latest.get(cid)
        if named is None:
            out.append((cid, earliest[cid], None, None, None))
        else:
            out.append((cid, earliest[cid], named[0], _latin(named[0]), named[1]))
    return out


def _identifiers(
    linked: Iterable[tuple[str, str, str, bool, str, datetime, datetime]],
    seen: Iterable[tuple[datetime, str, str, str]],
) -> list[IdentifierRow]:
    """One row per identifier, sorted by key.

    A link keeps the batch's first validity and channel and the widest first/last seen; a
    sighting of an identifier linked in the same batch widens that link's last_seen; any
    other sighting is a row without first_seen, valid and channel (update only).
    """
    links: dict[IdentifierKey, tuple[bool, str, datetime, datetime]] = {}
    for cid, kind, value, valid, channel, first, last in linked:
        key = (cid, kind, value)
        known = links.get(key)
        if known is None:
            links[key] = (valid, channel, first, last)
        elif first < known[2] or last > known[3]:
            links[key] = (known[0], known[1], min(known[2], first), max(known[3], last))
    sightings: dict[IdentifierKey, datetime] = {}
    for at, cid, kind, value in seen:
        key = (cid, kind, value)
        link = links.get(key)
        if link is not None:
            if at > link[3]:
                links[key] = (link[0], link[1], link[2], at)
            continue
        latest = sightings.get(key)
        if latest is None or at > latest:
            sightings[key] = at
    rows: dict[IdentifierKey, IdentifierRow] = {key: (*key, *link) for key, link in links.items()}
    rows.update((key, (*key, None, None, None, at)) for key, at in sightings.items())
    return [rows[key] for key in sorted(rows)]
