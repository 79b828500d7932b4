"""Anchors: signed chain heads kept outside the database they vouch for, one JSON line each.

An anchor is a :class:`~events.audit.chain.Checkpoint` (the head's seq and hash, HMAC-signed
with a key kept in the data dir, never in the database) with the time it was anchored. The
anchor file only grows; an administrator who rolls the database back to an earlier copy,
cuts its tail off or rewrites rows with recomputed hashes cannot make the file agree. Pure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from events.audit.chain import Checkpoint, verify_checkpoint


@dataclass(frozen=True)
class Anchor:
    """One line of the anchor file."""

    chain: str
    checkpoint: Checkpoint
    anchored_at: datetime

    def line(self) -> str:
        cp = self.checkpoint
        return json.dumps({"chain": self.chain, "seq": cp.seq, "hash": cp.hash,
                           "signature": cp.signature, "anchored_at": self.anchored_at.isoformat()},
                          sort_keys=True) + "\n"


@dataclass(frozen=True)
class Reading:
    """What an anchor file says: its well-signed anchors of one chain, and its faults."""

    anchors: list[Anchor]
    faults: list[str]

    @property
    def latest(self) -> Anchor | None:
        return max(self.anchors, key=lambda a: a.checkpoint.seq, default=None)


def read(text: str, chain: str, key: bytes) -> Reading:
    """Parse an anchor file; a line that is not valid JSON or not signed with ``key`` is a fault
    (someone edited the file), a torn last line (a crash mid-write) is not."""
    anchors, faults = [], []
    lines = text.split("\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            anchor = Anchor(data["chain"], Checkpoint(int(data["seq"]), data["hash"], data["signature"]),
                            datetime.fromisoformat(data["anchored_at"]))
        except (ValueError, KeyError, TypeError):
            if number == len(lines):  # no newline after it: a write cut short
                continue
            faults.append(f"anchor file line {number}: unreadable")
            continue
        if anchor.chain != chain:
            continue
        if not verify_checkpoint(anchor.checkpoint, key):
            faults.append(f"anchor file line {number} (seq {anchor.checkpoint.seq}): bad signature")
            continue
        anchors.append(anchor)
    return Reading(anchors, faults)


@dataclass(frozen=True)
class Published:
    """A signed checkpoint as published to ``audit.checkpoints.v1``: a second copy outside
    the database, which neither an administrator nor whoever deletes the anchor file holds."""

    checkpoint: Checkpoint
    signed_at: datetime


def published_faults(reading: Reading, published: list[Published], now: datetime,
                     grace: timedelta) -> list[str]:
    """What the published checkpoints say against the anchor file: one the file should hold by
    now (its head is anchored within ``grace``) but does not reach means the file was deleted or
    cut short, or its writer is stopped. Their signatures are checked with the database's."""
    faults: list[str] = []
    due = [p for p in published if p.signed_at <= now - grace]
    newest = max(due, key=lambda p: p.checkpoint.seq, default=None)
    anchored = reading.latest.checkpoint.seq if reading.latest else 0
    if newest is not None and newest.checkpoint.seq > anchored:
        where = f"ends at seq {anchored}" if reading.latest else "is missing or empty"
        faults.append(
            f"the anchor file {where}, but checkpoint seq {newest.checkpoint.seq} was published to"
            f" audit.checkpoints.v1 at {newest.signed_at.isoformat()}: the file was deleted or"
            " truncated (or the anchor worker is stopped)")
    return faults
