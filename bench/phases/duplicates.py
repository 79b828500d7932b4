"""Possible duplicates: quality on FEBRL 1, 2, 4 and generated Russian customers, and speed.

Quality: pairwise precision, recall, F1 and the share of wrong pairs before review
(deterministic identity only) and after accepting every proposal at the default minimum
score, next to splink's own FEBRL example configuration on the same rows. Speed: proposals
for 5,000 new customers against an existing population, the worker's way (blocking-key
candidates, then the model), against splink predicting over the whole population at once.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from bench.duplicates import baseline
from bench.duplicates.datasets import DATASETS, russian
from bench.duplicates.quality import deterministic, evaluate, records, wrong_share
from bench.identity_quality import pairwise
from bench.plan import Context
from kartoteka.settings import Settings
from services.projections.duplicates import model

NEW = 5_000
BATCH = 500


def run(ctx: Context | Any) -> dict[str, Any]:
    min_score = Settings().duplicates_min_score
    out: dict[str, Any] = {"min_score": min_score, "datasets": {}}
    for name, load in DATASETS.items():
        rows = load()
        result = evaluate(rows, min_score)
        truth = [r.pid for r in rows]
        started = time.perf_counter()
        example = _clusters(len(rows), baseline.links(rows, min_score))
        result["splink_example"] = {**pairwise(truth, example), "wrong_pairs": wrong_share(truth, example),
                                    "seconds": round(time.perf_counter() - started, 2)}
        out["datasets"][name] = result
        print(f"bench: duplicates {name}: after {result['after']}, splink example {result['splink_example']}",
              flush=True)
    out["speed"] = speed(ctx.plan.name == "quick")
    return out


def _clusters(count: int, links: list[tuple[int, int, float]]) -> list[str]:
    parent = list(range(count))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b, _ in links:
        parent[max(root(a), root(b))] = min(root(a), root(b))
    return [str(root(i)) for i in range(count)]


def speed(quick: bool) -> dict[str, Any]:
    """Seconds to propose for 5,000 new customers the worker's way (their blocking-key candidates,
    500 at a time, scored between and within), and splink predicting over the whole population."""
    rows = russian(10_000 if quick else 40_000, seed=11)
    found = records(rows, deterministic(rows))
    existing, new = found[:-NEW], found[-NEW:]
    params = model.train(existing)
    index: dict[str, set[int]] = defaultdict(set)
    for n, r in enumerate(existing):
        for key in r.block_keys:
            index[key].add(n)
    started = time.perf_counter()
    proposals = 0
    for offset in range(0, NEW, BATCH):
        batch = new[offset:offset + BATCH]
        near = {n for r in batch for k in r.block_keys for n in index.get(k, ())}
        proposals += len(model.score_new(batch, [existing[n] for n in near], params, 0.9))
    ours = time.perf_counter() - started
    started = time.perf_counter()
    model.score(found, params, 0.9)
    whole = time.perf_counter() - started
    return {"existing": len(existing), "new": NEW, "batch": BATCH, "proposals": proposals,
            "seconds": round(ours, 2), "splink_whole_population_s": round(whole, 2),
            "ratio_vs_whole": round(ours / whole, 2) if whole else None, "goal_s": 60}



