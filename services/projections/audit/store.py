"""The audit trail store: chained access rows, the signed head, checkpoints and tracked
positions, all in one Postgres transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor

from events.audit import chain
from events.audit.trail import CHAIN, RECORD_FIELDS
from services.projections.tracking import Positions

_COLUMNS = ", ".join(("chain_seq", "prev_hash", "hash", *RECORD_FIELDS))
INSERT_ACCESS = (
    f"INSERT INTO access_log ({_COLUMNS})"  # noqa: S608 - fixed column names
    f" VALUES ({', '.join(['%s'] * (3 + len(RECORD_FIELDS)))})"
)
LOCK_HEAD = "SELECT seq, hash FROM audit_chain_head WHERE chain = %s FOR UPDATE"
TAIL = "SELECT hash FROM access_log WHERE chain_seq = %s"
KNOWN_IDS = "SELECT id::text FROM access_log WHERE id = ANY(%s::uuid[])"
MOVE_HEAD = (
    "UPDATE audit_chain_head SET seq = %s, hash = %s, signature = %s, updated_at = now()"
    " WHERE chain = %s"
)
LAST_CHECKPOINT = (
    "SELECT seq, signed_at FROM audit_checkpoints WHERE chain = %s ORDER BY seq DESC LIMIT 1"
)
INSERT_CHECKPOINT = (
    "INSERT INTO audit_checkpoints (chain, seq, hash, signature, signed_at)"
    " VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
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
        """Chain and insert the records not stored yet, in the given (log) order."""
        with self.datastore.transaction(commit=True) as curs:
            locked = curs.execute(LOCK_HEAD, (CHAIN,)).fetchone()
            if locked is None:
                raise RuntimeError(f"chain {CHAIN!r} has no head row: migrations not applied")
            seq, head = locked["seq"], locked["hash"]
            fault = _tail_fault(curs, seq, head)
            fresh = _unseen(curs, records)
            if fresh:
                rows = chain.build(fresh, first_seq=seq + 1, prev_hash=head)
                curs.executemany(INSERT_ACCESS, [_params(r) for r in rows])
                seq, head = rows[-1].seq, rows[-1].hash
                signed = chain.checkpoint(seq, head, self.key)
                curs.execute(MOVE_HEAD, (seq, head, signed.signature, CHAIN))
                self._maybe_checkpoint(curs, signed)
            self.positions.record(curs, trackings)
        return fault

    def _maybe_checkpoint(self, curs: Cursor[Any], signed: chain.Checkpoint) -> None:
        last = curs.execute(LAST_CHECKPOINT, (CHAIN,)).fetchone()
        now = datetime.now(UTC)
        due = last is None or (
            signed.seq - last["seq"] >= self.policy.rows
            or now - last["signed_at"] >= self.policy.age
        )
        if due:
            curs.execute(
                INSERT_CHECKPOINT, (CHAIN, signed.seq, signed.hash, signed.signature, now)
            )


def _tail_fault(curs: Cursor[Any], seq: int, head: str) -> TailFault | None:
    if seq == 0:
        return None
    row = curs.execute(TAIL, (seq,)).fetchone()
    if row is None:
        return TailFault(seq, f"seq {seq}, the signed head, is missing: rows deleted")
    if row["hash"] != head:
        return TailFault(seq, f"seq {seq} does not hash to the signed head: row changed")
    return None


def _unseen(curs: Cursor[Any], records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Records whose id is neither stored already nor earlier in this batch."""
    ids = [r["id"] for r in records]
    stored = {row["id"] for row in curs.execute(KNOWN_IDS, (ids,)).fetchall()} if ids else set()
    fresh: dict[str, Mapping[str, Any]] = {}
    for record in records:
        if record["id"] not in stored:
            fresh.setdefault(record["id"], record)
    return list(fresh.values())


def _params(row: chain.ChainRow) -> tuple[Any, ...]:
    return (row.seq, row.prev_hash, row.hash, *(row.record[name] for name in RECORD_FIELDS))
