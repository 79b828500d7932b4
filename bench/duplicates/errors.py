"""``python -m bench.duplicates.errors [--version 2 | --dataset febrl1]``: what the matcher got wrong.

Runs the Russian generator (or a FEBRL set) through the bench's own steps (deterministic identity, EM training,
proposals accepted at the default minimum score) and writes, as JSON lines, the wrong pairs
(the proposal that joined two people) and a sample of the linkable pairs it missed, each with
both matching records and the model's evidence: the material for the next matcher change.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.duplicates.datasets import DATASETS, russian
from bench.duplicates.linkable import linkable_pairs
from bench.duplicates.quality import accepted, deterministic, records
from kartoteka.settings import Settings
from services.projections.duplicates import model
from services.projections.duplicates.attributes import MatchRecord
from services.projections.duplicates.pairs import ScoredPair


def _shown(r: MatchRecord) -> dict[str, Any]:
    return {k: v for k, v in r.__dict__.items() if v and k not in ("block_keys", "customer_id")}


def _pair(kind: str, a: MatchRecord, b: MatchRecord, scored: ScoredPair | None, pids: Any) -> dict[str, Any]:
    return {"kind": kind, "pids": pids, "a": _shown(a), "b": _shown(b),
            "score": round(scored.probability, 4) if scored else None,
            "shared_keys": sorted(set(a.block_keys) & set(b.block_keys))[:5],
            "evidence": [[e.attribute, e.level, e.weight] for e in scored.evidence] if scored else None}


def dump(version: int, sample: int, seed: int = 1, dataset: str | None = None) -> list[dict[str, Any]]:
    rows = DATASETS[dataset]() if dataset else russian(10_000, version=version)
    min_score = Settings().duplicates_min_score
    customers = deterministic(rows)
    found = records(rows, customers)
    by_id = {r.customer_id: r for r in found}
    params = model.train(found)
    pairs = model.score(found, params, min_score)
    after = accepted(customers, pairs, min_score)
    pids: dict[str, set[int]] = defaultdict(set)
    for row, customer in zip(rows, customers, strict=True):
        pids[customer].add(row.pid)
    out = [_pair("wrong", by_id[p.a], by_id[p.b], p, [sorted(pids[p.a]), sorted(pids[p.b])])
           for p in pairs if p.probability >= min_score and not pids[p.a] & pids[p.b]]
    missed = sorted({tuple(sorted((customers[x], customers[y]))) for x, y in linkable_pairs(rows)
                     if after[x] != after[y]})
    for a, b in random.Random(seed).sample(missed, min(sample, len(missed))):
        scored = model.score([by_id[a], by_id[b]], params, 0.0)
        out.append(_pair("missed", by_id[a], by_id[b], scored[0] if scored else None, sorted(pids[a] | pids[b])))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--version", type=int, default=1, help="the Russian generator's version")
    parser.add_argument("--dataset", choices=sorted(DATASETS), help="a bench data set instead of --version")
    parser.add_argument("--sample", type=int, default=40, help="missed pairs to score and show")
    parser.add_argument("--out", type=Path, default=Path("bench/results/duplicate_errors.jsonl"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("splink").setLevel(logging.ERROR)  # "level not observed" notes per EM step
    found = dump(args.version, args.sample, dataset=args.dataset)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in found))
    print(f"{sum(e['kind'] == 'wrong' for e in found)} wrong, {sum(e['kind'] == 'missed' for e in found)} missed"
          f" shown: {args.out}")


if __name__ == "__main__":
    main()
