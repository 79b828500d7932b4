"""Pairwise quality before review (deterministic identity only) and after accepting every proposal.

The deterministic step is the resolver's own ``decide`` over one interaction per row; the
probabilistic step is the finder's own code: records from observations, the splink model
EM-trained on these customers, proposals at the default minimum score. The baseline is
splink's FEBRL example configuration on the same rows.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.duplicates.linkable import linkable_recall
from bench.duplicates.russian import Row
from bench.identity_quality import pairwise
from bench.payloads import BENCH_ID_SECRET
from events.ids import interaction_id
from events.interaction import Interaction
from services.projections.duplicates import model
from services.projections.duplicates.attributes import MatchRecord
from services.projections.duplicates.observe import record_of
from services.projections.identity.decide import Attribute, Merge, Snapshot, decide

START = datetime(2026, 1, 1, tzinfo=UTC)


def interaction(n: int, row: Row) -> Interaction:
    customer = {k: v for k, v in (("phone", row.phone), ("email", row.email), ("name", row.name),
                                  ("handle", f"ssn:{row.number}" if row.number else None)) if v}
    details = {k: v for k, v in (("birth_date", row.birth_date), ("address", row.address),
                                 ("company", row.company)) if v}
    return Interaction.model_validate({
        "channel": "web_form", "external_id": f"row-{n}", "occurred_at": (START + timedelta(minutes=n)).isoformat(),
        "direction": "inbound", "customer": customer, "details": details})


def deterministic(rows: list[Row], batch: int = 500) -> list[str]:
    """The customer each row ends up on with identical identifiers only (guards included)."""
    snapshot, owner, merged = Snapshot(), {}, {}
    items = [(interaction_id("web_form", f"row-{n}", BENCH_ID_SECRET), interaction(n, r)) for n, r in enumerate(rows)]
    for offset in range(0, len(items), batch):
        for command in decide(items[offset:offset + batch], snapshot):  # type: ignore[arg-type]
            if isinstance(command, Attribute):
                owner[command.interaction_id] = command.customer_id
            elif isinstance(command, Merge):
                merged[command.merged_id] = command.survivor_id
    return [_root(merged, owner[i]) for i, _ in items]


def _root(merged: dict[str, str], customer: str) -> str:
    while customer in merged:
        customer = merged[customer]
    return customer


def records(rows: list[Row], customers: list[str]) -> list[MatchRecord]:
    """Each customer's matching record, from its rows as the finder's observations."""
    seen: dict[str, list[tuple[str, str, str, datetime]]] = defaultdict(list)
    for n, (row, customer) in enumerate(zip(rows, customers, strict=True)):
        at = START + timedelta(minutes=n)
        for attribute, value in (("name", row.name), ("phone", row.phone), ("email", row.email),
                                 ("birth_date", row.birth_date), ("address", row.address),
                                 ("company", row.company), ("phone", row.number)):
            if value:
                seen[customer].append((attribute, value, "web_form", at))
    return [record_of(c, found) for c, found in seen.items()]


def accepted(customers: list[str], pairs: list[model.ScoredPair], min_score: float) -> list[str]:
    """Customers after a supervisor accepted every proposal at or above ``min_score``."""
    merged: dict[str, str] = {}
    for pair in sorted(pairs, key=lambda p: -p.probability):
        if pair.probability < min_score:
            continue
        a, b = _root(merged, pair.a), _root(merged, pair.b)
        if a != b:
            merged[max(a, b)] = min(a, b)
    return [_root(merged, c) for c in customers]


def wrong_share(truth: list[int], predicted: list[str]) -> float:
    """Wrong pairs as a share of all pairs put together."""
    groups: dict[str, list[int]] = defaultdict(list)
    for t, p in zip(truth, predicted, strict=True):
        groups[p].append(t)
    together = sum(len(g) * (len(g) - 1) // 2 for g in groups.values())
    right = sum(sum(c * (c - 1) // 2 for c in _counts(g).values()) for g in groups.values())
    return round((together - right) / together, 5) if together else 0.0


def _counts(values: list[int]) -> dict[int, int]:
    out: dict[int, int] = defaultdict(int)
    for v in values:
        out[v] += 1
    return out


def evaluate(rows: list[Row], min_score: float) -> dict[str, Any]:
    truth = [r.pid for r in rows]
    started = time.perf_counter()
    customers = deterministic(rows)
    found = records(rows, customers)
    trained = time.perf_counter()
    params = model.train(found)
    scored = time.perf_counter()
    pairs = model.score(found, params, min_score)
    after = accepted(customers, pairs, min_score)
    done = time.perf_counter()
    return {
        "rows": len(rows), "true_people": len(set(truth)), "customers_before": len(set(customers)),
        "proposals": len(pairs), "customers_after": len(set(after)),
        "before": {**pairwise(truth, customers), "wrong_pairs": wrong_share(truth, customers)},
        "after": {**pairwise(truth, after), "wrong_pairs": wrong_share(truth, after)},
        "linkable": ceiling(rows, after),
        "seconds": {"deterministic": round(trained - started, 2), "train": round(scored - trained, 2),
                    "score": round(done - scored, 2)},
    }


def ceiling(rows: list[Row], predicted: list[str]) -> dict[str, Any]:
    """Recall over the pairs a reviewer could link at all, and F1 with it (precision as measured)."""
    found = linkable_recall(rows, predicted)
    precision = pairwise([r.pid for r in rows], predicted)["precision"]
    recall = float(found["recall_of_linkable"])
    return {**found, "f1_of_linkable": round(2 * precision * recall / (precision + recall), 4)
            if precision + recall else 0.0}
