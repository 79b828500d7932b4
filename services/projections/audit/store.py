"""The audit trail store: chained access rows, the signed head, checkpoints and tracked
positions, all in one Postgres transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore

from events.audit import chain
from events.audit.records import alert_record, checkpoint_record
from events.audit.trail import CHAIN, RECORD_FIELDS, chain_alert
from events.records import Outgoing
from kartoteka import outbox
from services.projections.tracking import Positions

SOURCE = "kartoteka/audit"

_COLUMNS = ", ".join(("chain_seq", "prev_hash", "hash", *RECORD_FIELDS))
COPY_ACCESS = f"COPY access_log ({_COLUMNS}) FROM STDIN"
LOCK_HEAD = "SELECT seq, hash FROM audit_chain_head WHERE chain = %s FOR UPDATE"
# After the lock, in its own statement (so its own snapshot: a racing writer's rows are seen):
# the stored tail, which of the batch's ids are stored already, and the last checkpoint.
STATE = (
    "SELECT EXISTS (SELECT 1 FROM access_log WHERE chain_seq = %(seq)s) AS tail_found,"
    " (SELECT hash FROM access_log WHERE chain_seq = %(seq)s) AS tail_hash,"
    " ARRAY(SELECT id::text FROM access_log WHERE id = ANY(%(ids)s::uuid[])) AS known,"
    " (SELECT seq FROM audit_checkpoints WHERE chain = %(chain)s ORDER BY seq DESC LIMIT 1)"
    "  AS checkpoint_seq,"
    " (SELECT signed_at FROM audit_checkpoints WHERE chain = %(chain)s ORDER BY seq DESC LIMIT 1)"
    "  AS checkpoint_at"
)
MOVE_HEAD = (
    "UPDATE audit_chain_head SET seq = %(seq)s, hash = %(hash)s, signature = %(signature)s,"
    " updated_at = now() WHERE chain = %(chain)s"
)
MOVE_HEAD_AND_CHECKPOINT = (
    f"WITH moved AS ({MOVE_HEAD})"  # noqa: S608 - fixed text
    " INSERT INTO audit_checkpoints (chain, seq, hash, signature, signed_at)"
    " VALUES (%(chain)s, %(seq)s, %(hash)s, %(signature)s, %(at)s) ON CONFLICT DO NOTHING"
)


@dataclass(frozen=True)
class TailFault:
    """The stored chain does not end where its signed head says: rows were removed or changed."""

    head_seq: int
    reason: str


@dataclass(frozen=True)
class CheckpointPolicy:
    """Sign a checkpoint every ``rows`` rows, or when the last one is older than ``age``."""

    rows: int = 1000
    age: timedelta = timedelta(seconds=60)


class AccessStore:
    """Appends chained access rows; a redelivered access event is recorded once.

    The head row is locked for the whole transaction, so even two workers racing after a
    restart extend the chain one after the other rather than forking it.
    """

    def __init__(
        self,
        datastore: PostgresDatastore,
        positions: Positions,
        key: bytes,
        policy: CheckpointPolicy = CheckpointPolicy(),
    ) -> None:
        self.datastore = datastore
        self.positions = positions
        self.key = key
        self.policy = policy

    def append(
        self, records: Sequence[Mapping[str, Any]], trackings: list[Tracking]
    ) -> TailFault | None:
        """Chain and insert the records not stored yet, in the given (log) order.

        One transaction of four statements whatever the batch size (lock, state, COPY, head),
        plus the positions: the per-batch cost, not per-row round trips, is what a busy api's
        stream of small batches pays. A signed checkpoint, and the alert for a chain found
        broken, go to the outbox in the same transaction.
        """
        sending: list[Outgoing] = []
        now = datetime.now(UTC)
        with self.datastore.transaction(commit=True) as curs:
            locked = curs.execute(LOCK_HEAD, (CHAIN,)).fetchone()
            if locked is None:
                raise RuntimeError(f"chain {CHAIN!r} has no head row: migrations not applied")
            seq, head = locked["seq"], locked["hash"]
            ids = [r["id"] for r in records]
            state = curs.execute(STATE, {"seq": seq, "ids": ids, "chain": CHAIN}).fetchone()
            assert state is not None  # scalar subqueries: always one row
            fault = _tail_fault(seq, head, state)
            if fault is not None:
                sending.append(alert_record(chain_alert(fault.head_seq, fault.reason, now, "audit"), SOURCE))
            fresh = _unseen(set(state["known"]), records)
            if fresh:
                rows = chain.build(fresh, first_seq=seq + 1, prev_hash=head)
                with curs.copy(COPY_ACCESS) as copy:
                    for row in rows:
                        copy.write_row(_params(row))
                seq, head = rows[-1].seq, rows[-1].hash
                signed = chain.checkpoint(seq, head, self.key)
                due = state["checkpoint_seq"] is None or (
                    signed.seq - state["checkpoint_seq"] >= self.policy.rows
                    or now - state["checkpoint_at"] >= self.policy.age
                )
                params = {"seq": seq, "hash": head, "signature": signed.signature,
                          "chain": CHAIN, "at": now}
                curs.execute(MOVE_HEAD_AND_CHECKPOINT if due else MOVE_HEAD, params)
                if due:
                    sending.append(checkpoint_record(CHAIN, signed, now, SOURCE))
            outbox.write(curs, sending, "audit")
            self.positions.record(curs, trackings)
        return fault


def _tail_fault(seq: int, head: str, state: Mapping[str, Any]) -> TailFault | None:
    if seq == 0:
        return None
    if not state["tail_found"]:
        return TailFault(seq, f"seq {seq}, the signed head, is missing: rows deleted")
    if state["tail_hash"] != head:
        return TailFault(seq, f"seq {seq} does not hash to the signed head: row changed")
    return None


def _unseen(stored: set[str], records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Records whose id is neither stored already nor earlier in this batch."""
    fresh: dict[str, Mapping[str, Any]] = {}
    for record in records:
        if record["id"] not in stored:
            fresh.setdefault(record["id"], record)
    return list(fresh.values())


def _params(row: chain.ChainRow) -> tuple[Any, ...]:
    return (row.seq, row.prev_hash, row.hash, *(row.record[name] for name in RECORD_FIELDS))
