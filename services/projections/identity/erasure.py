"""The resolver's side of erasure and legal holds: which ids and keys an erasure covers, and
the events and statements that carry it out in one transaction with the tracked position.

An erasure covers the customer's whole: the root it was merged into and every member merged
into that root, with every interaction attributed to any of them. Their data keys are
destroyed (crypto-shredding), their identifiers leave the resolver's index (the next call of
the same person makes a new customer), and a ``Customer.Erased`` event per member tells every
read model, now and in each rebuild, to drop them.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import Tracking
from psycopg.rows import tuple_row

from events import sealing
from events.privacy import ErasureRequested, HoldPlaced
from kartoteka.keystore import BUMP, DESTROY
from services.projections.identity import stored_events as stored
from services.projections.identity.identity_log import IdentityLog, Statement
from services.projections.identity.stored_events import EventLog

log = logging.getLogger(__name__)

ROOT = ("WITH RECURSIVE up(id, next, depth) AS ("
        " SELECT customer_id, merged_into, 0 FROM identity_customers WHERE customer_id = %s::uuid"
        " UNION ALL SELECT c.customer_id, c.merged_into, up.depth + 1 FROM identity_customers c"
        " JOIN up ON c.customer_id = up.next WHERE up.depth < 16)"
        " SELECT id::text FROM up WHERE next IS NULL")
MEMBERS = ("WITH RECURSIVE m(id) AS (SELECT %s::uuid UNION"
           " SELECT c.customer_id FROM identity_customers c JOIN m ON c.merged_into = m.id)"
           " SELECT m.id::text FROM m LEFT JOIN erased_customers e ON e.customer_id = m.id"
           " WHERE e.customer_id IS NULL")
INTERACTIONS = "SELECT interaction_id::text FROM identity_attributions WHERE customer_id = ANY(%s::uuid[])"
HELD = ("SELECT reason, until FROM legal_holds WHERE customer_id = ANY(%s::uuid[]) AND until > %s"
        " ORDER BY until DESC LIMIT 1")
FORGET = (
    "DELETE FROM identity_index WHERE customer_id = ANY(%s::uuid[])",
    "DELETE FROM identity_unmatched WHERE customer_id = ANY(%s::uuid[])",
    "DELETE FROM identity_member_keys WHERE customer_id = ANY(%s::uuid[])",
    "DELETE FROM identity_attributions WHERE customer_id = ANY(%s::uuid[])",
    "DELETE FROM identity_held WHERE customer_id = ANY(%s::uuid[])",
    "DELETE FROM identity_traits WHERE customer_id = ANY(%s::uuid[])",  # birth date, name keys
)
RECORD = ("INSERT INTO erased_customers (customer_id, erased_as, reason, erased_by, erased_at)"
          " SELECT unnest(%s::uuid[]), %s, %s, %s, %s ON CONFLICT DO NOTHING")
HOLD = ("INSERT INTO legal_holds (customer_id, reason, until, placed_by, placed_at)"
        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (customer_id) DO UPDATE SET reason = EXCLUDED.reason,"
        " until = EXCLUDED.until, placed_by = EXCLUDED.placed_by, placed_at = EXCLUDED.placed_at")


def apply(log_: IdentityLog, commands: list[ErasureRequested | HoldPlaced], trackings: list[Tracking]) -> None:
    """Carry out the batch's privacy commands, in order, with the batch's positions."""
    events = EventLog({}, datetime.now(UTC))
    writes: list[Statement] = []
    with log_.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
        for command in commands:
            if isinstance(command, HoldPlaced):
                root = _one(cur, ROOT, command.customer_id) or command.customer_id
                writes.append((HOLD, [(root, command.reason, command.until, command.placed_by, command.at)]))
            else:
                _erase(cur, log_, events, writes, command)
    log_.record(events.stored(), trackings, writes)


def _erase(conn: Any, log_: IdentityLog, events: EventLog, writes: list[Statement],
           command: ErasureRequested) -> None:
    root = _one(conn, ROOT, command.customer_id)
    if root is None:
        log.warning("erasure of an unknown customer", extra={"customer_id": command.customer_id})
        return
    members = [r[0] for r in conn.execute(MEMBERS, (root,)).fetchall()]
    if not members:
        return  # erased already
    held = conn.execute(HELD, (members, command.at)).fetchone()
    if held is not None:
        # The api answers 409 first; a hold placed after the request still wins here.
        log.warning("erasure refused: legal hold", extra={"customer_id": root, "until": str(held[1])})
        return
    interactions = [r[0] for r in conn.execute(INTERACTIONS, (members,)).fetchall()]
    subjects = ([sealing.customer_subject(m) for m in members]
                + [sealing.interaction_subject(i) for i in interactions])
    events.versions.update(log_.versions(members))
    at = events.when(command.at)
    for member in members:
        events.append(events.customers, member, stored.ERASED,
                      (command.customer_id, command.command_id, command.requested_by, at))
    writes.append((DESTROY, [(subjects,)]))
    writes.append((BUMP, [()]))
    writes.extend((statement, [(members,)]) for statement in FORGET)
    writes.append((RECORD, [(members, command.customer_id, command.reason, command.requested_by, command.at)]))
    log.info("customer erased", extra={"customer_id": root, "members": len(members),
                                       "interactions": len(interactions)})


def _one(conn: Any, query: str, *params: Any) -> str | None:
    row = conn.execute(query, params).fetchone()
    return row[0] if row else None
