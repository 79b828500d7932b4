"""``python -m bench.finder_candidates PERSONS [BATCH] [--limit N ...]``: how many candidates one
scoring of the duplicate finder fetches, and how that grows with the customers.

In process, no database: the finder's own ``block_keys`` over Russian-generator v2 customers
(each row its own customer, as before any merge), then a random batch of new records, as the
worker gathers them. For each blocking key it shares, a record pairs with every other member
of that key's block; the customers of those blocks are what the candidate query fetches.
``--limit N`` leaves out the keys shared by more than N customers, to show what such a cut
would fetch and which true pairs (same generated person) would still share a key.
"""

from __future__ import annotations

import argparse
import random
from collections import defaultdict

from bench.duplicates.quality import records
from bench.duplicates.russian import dataset
from services.projections.duplicates.attributes import block_keys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.finder_candidates", description=__doc__.split("\n")[0])
    parser.add_argument("persons", type=int, help="generated persons (about 1.7 customers each)")
    parser.add_argument("batch", type=int, nargs="?", default=600, help="new records per scoring")
    parser.add_argument("--limit", type=int, action="append", default=[], help="largest block kept")
    args = parser.parse_args(argv)
    print(f"generating {args.persons:,} persons ...", flush=True)
    rows = dataset(args.persons, 7, version=2)
    ids = [f"c{i}" for i in range(len(rows))]
    print(f"block keys of {len(rows):,} customers ...", flush=True)
    keys = {r.customer_id: block_keys(r) for r in records(rows, ids)}
    members: dict[str, set[str]] = defaultdict(set)
    for customer, own in keys.items():
        for key in own:
            members[key].add(customer)
    by_kind: dict[str, list[int]] = defaultdict(list)
    for key, block in members.items():
        by_kind[key.split(":", 1)[0]].append(len(block))
    for kind, sizes in sorted(by_kind.items()):
        sizes.sort()
        print(f"{kind:3} keys {len(sizes):9,}  median block {sizes[len(sizes) // 2]:4}"
              f"  p99 {sizes[int(len(sizes) * 0.99)]:4}  max {sizes[-1]:4}")
    batch = random.Random(1).sample(ids, args.batch)
    person = {customer: row.pid for customer, row in zip(ids, rows, strict=True)}
    same: dict[int, set[str]] = defaultdict(set)
    for customer in ids:
        same[person[customer]].add(customer)
    true_pairs = [(c, d) for c in batch for d in same[person[c]] if d != c]
    for limit in [None, *args.limit]:
        kept = {c: [k for k in keys[c] if limit is None or len(members[k]) <= limit] for c in batch}
        fetched = set().union(*(members[k] for own in kept.values() for k in own))
        pairs = sum(len(members[k]) - 1 for own in kept.values() for k in own)
        reached = sum(1 for c, d in true_pairs if any(d in members[k] for k in kept[c]))
        print(f"limit {limit or 'none':>4}: {pairs / len(batch):.0f} pairs per record (once per shared key),"
              f" {len(fetched):,} candidates fetched ({len(fetched) / len(ids):.0%} of the customers),"
              f" {reached}/{len(true_pairs)} true pairs share a key")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
