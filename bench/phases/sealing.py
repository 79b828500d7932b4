"""The cost of sealing personal data (issue 16, goal: within 15% of ingest and drain), in process.

Encryption cannot be switched off (no setting does that in production), so its cost is measured
where it is spent: the AES-GCM seals and opens, data keys made and wrapped or unwrapped, and the
keyed HMAC ids and tokens, run over the bench's own interactions in the order the code path runs
them, against the plain work of the same path (validating and serialising the interaction). Per
interaction, worst case: every interaction a new customer with a phone and an e-mail, no key in
any cache. When the ingest and drain phases ran in the same run, the figures are also given as a
share of the CPU those phases used per interaction (what the 15% goal is about).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bench.payloads import BENCH_ID_SECRET, item
from bench.plan import Context
from events import ids, sealing
from services.ingest.accept import Accepted, accept

COUNT = 3_000
IDENTIFIERS = 2          # a phone and an e-mail: linked, sealed under the customer's key
CUSTOMER_RECORDS = 4     # customers.v1 per new customer: registered, linked x2, attributed
CONSUMERS = 2            # customers.v1 readers in the drain: timeline, duplicates


def run(ctx: Context | Any, results: dict[str, Any]) -> dict[str, Any]:
    items = [item("seal", n, COUNT) for n in range(COUNT)]
    now = datetime.now(UTC)
    accepted = [a for a in (accept(i, BENCH_ID_SECRET) for i in items) if isinstance(a, Accepted)]
    records = [a.record(now) for a in accepted]
    master, pepper = sealing.new_key(), sealing.pepper(sealing.new_key())
    plain = _us(lambda: [accept(i, BENCH_ID_SECRET).record(now) for i in items])  # type: ignore[union-attr]
    id_delta = _us(lambda: [ids.interaction_id("call", f"x-{n}", BENCH_ID_SECRET) for n in range(COUNT)]) \
        - _us(lambda: [ids.uuid5_text(f"interaction:call:x-{n}") for n in range(COUNT)])

    def ingest() -> None:
        for a, record in zip(accepted, records, strict=True):
            key = sealing.new_key()
            sealing.wrap(master, sealing.interaction_subject(a.id), key)
            sealing.interaction_record(key, pepper, a.id, a.subject, record)

    sealed = []
    for a, record in zip(accepted, records, strict=True):
        key = sealing.new_key()
        sealed.append((a, key, sealing.wrap(master, sealing.interaction_subject(a.id), key),
                       sealing.seal(key, sealing.interaction_subject(a.id), record)))

    def drain() -> None:
        for a, key, wrapped, value in sealed:
            subject = sealing.interaction_subject(a.id)
            # resolver: open the record, seal the attribution and the identifiers, token the lookups
            opened = sealing.unseal(sealing.unwrap(master, subject, wrapped), value)
            customer = sealing.customer_subject(a.id)
            ckey = sealing.new_key()
            cwrapped = sealing.wrap(master, customer, ckey)
            stored = sealing.seal_field(key, subject, opened.decode())
            links = [sealing.seal_field(ckey, customer, a.subject) for _ in range(IDENTIFIERS)]
            [sealing.token(pepper, a.subject) for _ in range(IDENTIFIERS)]
            # relay: open the stored events, seal each customers.v1 record
            sealing.unwrap(master, subject, wrapped), sealing.unwrap(master, customer, cwrapped)
            sealing.unseal_field(key, stored), [sealing.unseal_field(ckey, s) for s in links]
            out = [sealing.seal(key, subject, opened)] + [
                sealing.seal(ckey, customer, a.subject.encode() * 8) for _ in range(CUSTOMER_RECORDS - 1)]
            # every consumer of customers.v1 opens every record
            for _ in range(CONSUMERS):
                sealing.unwrap(master, subject, wrapped), sealing.unwrap(master, customer, cwrapped)
                [sealing.unseal(key if r is out[0] else ckey, r) for r in out]

    ingest_us = _us(ingest) + id_delta
    drain_us = _us(drain)
    out: dict[str, Any] = {
        "interactions": len(accepted), "record_bytes": round(sum(map(len, records)) / len(records)),
        "plain_ingest_us": round(plain, 2), "ingest_crypto_us": round(ingest_us, 2),
        "ingest_crypto_vs_plain": round(ingest_us / plain, 3), "drain_crypto_us": round(drain_us, 2),
        "ingest_cpu_share": _share(ingest_us, results.get("ingest", {}).get("batch"), ("ingest",)),
        "drain_cpu_share": _share(drain_us, results.get("drain"), None),
    }
    print(f"bench: sealing {out}", flush=True)
    return out


def _us(body: Callable[[], object], repeat: int = 3) -> float:
    """Microseconds per interaction, the best of ``repeat`` runs (the least disturbed by the load)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        body()
        best = min(best, time.process_time() - started)
    return best * 1e6 / COUNT


def _share(crypto_us: float, phase: dict[str, Any] | None, trees: tuple[str, ...] | None) -> float | None:
    """The crypto's share of the CPU a phase of this run used per interaction (None: not run)."""
    if not phase or not phase.get("per_s") or not phase.get("cpu_cores"):
        return None
    cores = phase["cpu_cores"]
    # The stack's own process trees (services, workers, PostgreSQL, broker), not the load generator
    # nor the rest of the machine.
    used = sum(v for k, v in cores.items() if (k in trees if trees else k not in ("machine", "others", "loadgen")))
    return round(crypto_us / (used / phase["per_s"] * 1e6), 3) if used else None
