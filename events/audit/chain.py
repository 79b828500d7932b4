"""A hash chain over access records, with HMAC-signed checkpoints. Pure: no I/O, no clock.

Each row's hash is SHA-256 over the canonical serialisation of ``{"prev": <previous hash>,
"record": <the record>}``; the first row of a chain links to ``GENESIS``. Changing a row breaks
its own hash; deleting or reordering rows breaks the next row's ``prev_hash`` or the sequence.
Cutting rows off the end leaves a valid shorter chain, which is why signed checkpoints (or an
expected last sequence number kept elsewhere) are needed to detect truncation.

The serialisation is sorted-key compact JSON in UTF-8; datetimes become RFC 3339 UTC with
microseconds (``2024-03-01T09:15:00.000000Z``, the precision PostgreSQL keeps), lists keep
their order. A record must hash the same when it is read back, so store datetimes as
``timestamptz`` and hand them back to :func:`verify` as aware datetimes, not strings.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
_HASH = re.compile(r"[0-9a-f]{64}")


def _plain(value: Any) -> Any:
    """Turn a record value into plain JSON values, refusing anything that could hash two ways."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            # A naive time means different instants on different hosts: refuse it.
            raise ValueError(f"naive datetime {value!r} cannot be hashed")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Mapping):
        return {_key(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | bool | int | float):
        return value
    # Sets and other types have no stable order or form; the caller must choose one.
    raise TypeError(f"cannot hash a value of type {type(value).__name__}")


def _key(key: Any) -> str:
    if not isinstance(key, str):
        raise TypeError(f"record keys must be strings, got {type(key).__name__}")
    return key


def canonical(record: Mapping[str, Any]) -> bytes:
    """The bytes a record is hashed over: sorted-key compact JSON in UTF-8."""
    return json.dumps(
        _plain(record),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    ).encode("utf-8")


def link(prev_hash: str, record: Mapping[str, Any]) -> str:
    """The hash of ``record`` chained after ``prev_hash`` (hex SHA-256)."""
    if not _HASH.fullmatch(prev_hash):
        raise ValueError(f"prev_hash must be 64 lowercase hex digits, got {prev_hash!r}")
    # Wrapping keeps the previous hash apart from the record's own fields.
    return hashlib.sha256(canonical({"prev": prev_hash, "record": record})).hexdigest()


@dataclass(frozen=True)
class ChainRow:
    """One stored row of a chain: its position, its record and the two hashes."""

    seq: int
    record: Mapping[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement that the chain had ``hash`` at ``seq``; kept apart from the rows."""

    seq: int
    hash: str
    signature: str


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of :func:`verify`.

    ``checked`` counts the rows verified good before the first failure; ``first_bad`` is the
    first sequence number that could not be verified (the missing one for a gap or a
    truncation), and ``reason`` says what was wrong.
    """

    ok: bool
    checked: int
    first_bad: int | None = None
    reason: str | None = None


def build(
    records: Iterable[Mapping[str, Any]], *, first_seq: int = 1, prev_hash: str = GENESIS
) -> list[ChainRow]:
    """Chain ``records`` in order, continuing after ``prev_hash`` at ``first_seq``."""
    rows: list[ChainRow] = []
    for seq, record in enumerate(records, start=first_seq):
        row = ChainRow(seq=seq, record=record, prev_hash=prev_hash, hash=link(prev_hash, record))
        rows.append(row)
        prev_hash = row.hash
    return rows


def _message(seq: int, hash: str) -> bytes:
    return canonical({"hash": hash, "seq": seq})


def checkpoint(seq: int, hash: str, secret: bytes) -> Checkpoint:
    """Sign the chain head ``(seq, hash)`` with HMAC-SHA256 under ``secret``."""
    signature = hmac.new(secret, _message(seq, hash), hashlib.sha256).hexdigest()
    return Checkpoint(seq=seq, hash=hash, signature=signature)


def verify_checkpoint(cp: Checkpoint, secret: bytes) -> bool:
    """True when ``cp`` was signed with ``secret`` and not altered since."""
    expected = hmac.new(secret, _message(cp.seq, cp.hash), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, cp.signature)


def _self_consistent(row: ChainRow) -> bool:
    """The stored hash matches the record and the row's own prev_hash."""
    try:
        return link(row.prev_hash, row.record) == row.hash
    except (TypeError, ValueError):
        return False  # a value that cannot be hashed was not written by the projection


def _row_fault(row: ChainRow, expected_seq: int, prev_hash: str) -> str | None:
    """Why ``row`` cannot follow a chain whose next seq is ``expected_seq``, or None."""
    if row.seq < expected_seq:
        return f"seq {row.seq} after seq {expected_seq - 1}: rows out of order or duplicated"
    if row.seq > expected_seq:
        return f"seq {expected_seq} missing, next row is seq {row.seq}: row deleted or moved"
    if not _self_consistent(row):
        return f"seq {row.seq}: stored hash does not match the record: row changed"
    if row.prev_hash != prev_hash:
        # A row that hashes fine but links elsewhere was moved, or its predecessor removed.
        return f"seq {row.seq}: prev_hash does not match seq {row.seq - 1}: row deleted or moved"
    return None


def _bad_signature(checkpoints: Sequence[Checkpoint], secret: bytes | None) -> Checkpoint | None:
    if secret is None:
        return None
    return next((cp for cp in checkpoints if not verify_checkpoint(cp, secret)), None)


def verify(
    rows: Iterable[ChainRow],
    *,
    expected_first_seq: int = 1,
    anchor_prev_hash: str = GENESIS,
    expected_last_seq: int | None = None,
    checkpoints: Iterable[Checkpoint] = (),
    checkpoint_secret: bytes | None = None,
) -> VerifyResult:
    """Recompute a chain (rows in ``seq`` order) and report the first fault.

    Streams ``rows`` once, so a server-side cursor works. To verify a segment, pass the seq
    of its first row and the hash of the row before it. Truncation shows as a checkpoint (or
    ``expected_last_seq``) beyond the last row; a rewritten tail shows as a checkpoint whose
    hash disagrees with the row at its seq. With ``checkpoint_secret`` the checkpoints' own
    signatures are checked first, since forged checkpoints would vouch for a forged chain.
    """
    cps = sorted(checkpoints, key=lambda cp: cp.seq)
    forged = _bad_signature(cps, checkpoint_secret)
    if forged is not None:
        return VerifyResult(False, 0, forged.seq, f"checkpoint at seq {forged.seq}: bad signature")
    signed = {cp.seq: cp for cp in cps}
    checked, expected_seq, prev_hash = 0, expected_first_seq, anchor_prev_hash
    for row in rows:
        fault = _row_fault(row, expected_seq, prev_hash)
        if fault is None and row.seq in signed and signed[row.seq].hash != row.hash:
            fault = f"seq {row.seq}: hash differs from the signed checkpoint: chain rewritten"
        if fault is not None:
            return VerifyResult(False, checked, expected_seq, fault)
        checked, expected_seq, prev_hash = checked + 1, expected_seq + 1, row.hash
    return _check_end(checked, expected_seq, expected_last_seq, cps)


def _check_end(
    checked: int, next_seq: int, expected_last_seq: int | None, cps: Sequence[Checkpoint]
) -> VerifyResult:
    """Truncation: something known to exist lies beyond the last row read."""
    last_seq = next_seq - 1
    claims = [cp.seq for cp in cps] + ([expected_last_seq] if expected_last_seq is not None else [])
    beyond = max(claims, default=last_seq)
    if beyond > last_seq:
        reason = f"chain ends at seq {last_seq} but seq {beyond} is known to exist: truncated"
        return VerifyResult(False, checked, next_seq, reason)
    return VerifyResult(True, checked)
