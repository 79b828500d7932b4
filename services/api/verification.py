"""``/v1/audit/verify``: recompute the access chain from the stored rows, in segments.

The signed head and the checkpoints are checked first (a forged one would vouch for a
forged chain); then the rows stream from one snapshot, a segment at a time, each verified
off the event loop against the checkpoints inside it; what remains past the last row is a
truncation. The hashing itself is :mod:`events.audit.chain`: the writer and
the verifier must share it byte for byte.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from kafka.errors import KafkaError
from psycopg_pool import AsyncConnectionPool

from events.audit import chain
from events.audit.anchor import Published, Reading, published_faults, read
from events.audit.records import alert_record
from events.audit.trail import CHAIN, chain_alert, stored_record
from kartoteka import outbox
from kartoteka.settings import Settings
from services.api.published import read_published
from services.api.queries import access

log = logging.getLogger(__name__)

SEGMENT = 2000


@dataclass(frozen=True)
class Report:
    """The verify answer: the contract's ok/checked/first_bad, and what was looked at."""

    ok: bool
    checked: int
    first_bad: int | None
    reason: str | None
    head_seq: int
    checkpoints: int
    unchained: int
    anchor: dict[str, Any] | None = None
    published: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _anchors(path: Path | None, key: bytes) -> Reading:
    if path is None or not path.exists():
        return Reading([], [])
    return read(path.read_text(encoding="utf-8"), CHAIN, key)


def _explained(report: Report, reading: Reading, published: list[Published]) -> Report:
    """Say when the fault is a disagreement with the anchors kept outside the database (the
    file, the published checkpoints)."""
    outside = [(a.checkpoint.seq, a.anchored_at, "anchored in the anchor file") for a in reading.anchors]
    outside += [(p.checkpoint.seq, p.signed_at, "published to audit.checkpoints.v1") for p in published]
    if report.ok or not outside or report.first_bad is None:
        return report
    seq, when, where = max(outside, key=lambda o: o[0])
    if "checkpoint" in (report.reason or "") and report.first_bad in {o[0] for o in outside}:
        why = "; the anchor outside the database disagrees: rows were rewritten, hashes recomputed"
    elif seq > report.head_seq and report.first_bad > report.head_seq:
        why = (f"; seq {seq} was {where} at {when.isoformat()}: the database was restored from"
               " an earlier copy or its tail was cut off")
    else:
        return report
    return replace(report, reason=f"{report.reason}{why}")


def _checkpoints(head: dict[str, Any] | None, rows: list[dict[str, Any]]) -> list[chain.Checkpoint]:
    signed = [chain.Checkpoint(r["seq"], r["hash"], r["signature"]) for r in rows]
    if head and head["seq"] > 0:
        # The head is a checkpoint too, moved on every batch: it catches a cut-off tail.
        signed.append(chain.Checkpoint(head["seq"], head["hash"], head["signature"]))
    return sorted(signed, key=lambda cp: cp.seq)


async def verify_trail(pool: AsyncConnectionPool, key: bytes, segment: int = SEGMENT,
                       anchor_path: Path | None = None, settings: Settings | None = None) -> Report:
    """Verify the whole access chain against its signed heads, its checkpoints and the anchors
    kept outside the database (the file; with ``settings``, the checkpoints published to
    Kafka, which also tell a deleted or cut anchor file); stops at the first fault."""
    reading = await asyncio.to_thread(_anchors, anchor_path, key)
    published, faults = await _published(settings, reading)
    report = await _verify(pool, key, segment, reading, published)
    faults = reading.faults + faults
    if report.ok and faults:
        return replace(report, ok=False, reason="; ".join(faults))
    return _explained(report, reading, published)


async def _published(settings: Settings | None, reading: Reading) -> tuple[list[Published], list[str]]:
    if settings is None:
        return [], []
    try:
        published = await asyncio.to_thread(read_published, settings, CHAIN)
    except KafkaError as exc:
        return [], [f"audit.checkpoints.v1 could not be read: {exc}"]
    # The anchor worker copies the head every anchor_every_s: a checkpoint older than a few
    # rounds must be in the file.
    grace = timedelta(seconds=max(5.0, 5 * settings.anchor_every_s))
    return published, published_faults(reading, published, datetime.now(UTC), grace)


async def _verify(pool: AsyncConnectionPool, key: bytes, segment: int, reading: Reading,
                  published: list[Published]) -> Report:
    async with pool.connection() as conn, conn.transaction():
        await access.snapshot(conn)
        head = await access.chain_head(conn, CHAIN)
        # The anchors last: at a seq the database also signed, the one kept outside it counts.
        cps = _checkpoints(head, await access.checkpoints(conn, CHAIN))
        cps += [a.checkpoint for a in reading.anchors] + [p.checkpoint for p in published]
        latest, newest = reading.latest, max(published, key=lambda p: p.checkpoint.seq, default=None)
        extra: dict[str, Any] = {"head_seq": head["seq"] if head else 0, "checkpoints": len(cps),
                                 "unchained": await access.unchained(conn),
                                 "anchor": None if latest is None else {
                                     "seq": latest.checkpoint.seq, "hash": latest.checkpoint.hash,
                                     "anchored_at": latest.anchored_at.isoformat()},
                                 "published": None if newest is None else {
                                     "seq": newest.checkpoint.seq, "hash": newest.checkpoint.hash,
                                     "signed_at": newest.signed_at.isoformat()}}
        forged = next((cp for cp in cps if not chain.verify_checkpoint(cp, key)), None)
        if forged is not None:
            reason = f"checkpoint at seq {forged.seq}: bad signature"
            return Report(False, 0, forged.seq, reason, **extra)
        checked, next_seq, prev = 0, 1, chain.GENESIS
        async for rows in access.chain_rows(conn, segment):
            segment_rows = [chain.ChainRow(r["chain_seq"], stored_record(r), r["prev_hash"],
                                           r["hash"]) for r in rows]
            last = segment_rows[-1].seq
            inside = [cp for cp in cps if next_seq <= cp.seq <= last]
            result = await asyncio.to_thread(
                chain.verify, segment_rows, expected_first_seq=next_seq,
                anchor_prev_hash=prev, checkpoints=inside,
            )
            if not result.ok:
                return Report(False, checked + result.checked, result.first_bad, result.reason,
                              **extra)
            checked, next_seq, prev = checked + result.checked, last + 1, segment_rows[-1].hash
        beyond = [cp for cp in cps if cp.seq >= next_seq]
        end = chain.verify([], expected_first_seq=next_seq, anchor_prev_hash=prev,
                           checkpoints=beyond)
        return Report(end.ok, checked, end.first_bad, end.reason, **extra)


async def record_chain_alert(pool: AsyncConnectionPool, first_bad: int, reason: str) -> None:
    """Records a ``chain_integrity`` alert in the outbox; the relay publishes it to alerts.v1.

    Best effort: the officer's answer already says what is wrong; an alert not recorded is logged.
    """
    alert = chain_alert(first_bad, reason, datetime.now(UTC), "verify")
    try:
        async with pool.connection() as conn, conn.transaction():
            await outbox.write_async(conn, [alert_record(alert, "kartoteka/api")], "api")
    except psycopg.Error as exc:
        log.error("chain alert not recorded", extra={"first_bad": first_bad, "error": str(exc)})
