"""Which true pairs a person could link at all: the ceiling a fair matcher is measured against.

A generated duplicate may keep nothing but a common name (a new number, no birth date, no
address): a reviewer shown it beside the namesakes of a population could not tell which one it
is, and must not merge it. Two records of one person count as linkable when they share an
identifier (one digit off included), or two of: the name (any spelling or order), the birth
date (one digit off), the house (a misspelt street allowed). Linkable pairs are those joined by
a chain of such links; recall over them says how many of the findable pairs were found.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations

from rapidfuzz.distance import JaroWinkler

from bench.duplicates.russian import Row
from services.projections.duplicates.attributes import MatchRecord, match_record, without_postcode


def _record(n: int, row: Row) -> MatchRecord:
    return match_record(str(n), names=[row.name] if row.name else [], birth_date=row.birth_date,
                        address=row.address, phones=[p for p in (row.phone, row.number) if p],
                        emails=[row.email] if row.email else [])


def _near(a: str, b: str) -> bool:
    """Equal, one character wrong, or two neighbours swapped."""
    if len(a) != len(b):
        return False
    wrong = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return len(wrong) <= 1 or (len(wrong) == 2 and wrong[1] == wrong[0] + 1 and a[wrong[0]] == b[wrong[1]])


def _same_name(a: MatchRecord, b: MatchRecord) -> bool:
    if not (a.first_name and a.surname and b.first_name and b.surname):
        return False
    straight = JaroWinkler.similarity(a.first_name, b.first_name) >= 0.9 and JaroWinkler.similarity(
        a.surname, b.surname) >= 0.9
    return straight or (a.first_name, a.surname) == (b.surname, b.first_name)


def _same_house(a: MatchRecord, b: MatchRecord) -> bool:
    wa, wb = (set((without_postcode(r.address) or "").split()) for r in (a, b))
    if not wa or not wb:
        return False
    numbers = {w for w in wa if w.isdigit()} & {w for w in wb if w.isdigit()}
    return bool(numbers) and len(wa & wb) >= min(len(wa), len(wb)) - 1


def linked(a: MatchRecord, b: MatchRecord) -> bool:
    if any(_near(x, y) for x in a.phones for y in b.phones) or set(a.emails) & set(b.emails):
        return True
    born = bool(a.birth_date and b.birth_date and _near(a.birth_date, b.birth_date))
    return born + _same_name(a, b) + _same_house(a, b) >= 2


def linkable_pairs(rows: list[Row]) -> set[tuple[int, int]]:
    """Pairs of row numbers (same person) a reviewer could link through a chain of evidence."""
    out: set[tuple[int, int]] = set()
    for members in _groups(rows).values():
        if len(members) < 2:
            continue
        records = {n: _record(n, rows[n]) for n in members}
        parent = {n: n for n in members}
        for x, y in combinations(members, 2):
            if linked(records[x], records[y]):
                parent[_root(parent, x)] = _root(parent, y)
        out |= {(x, y) for x, y in combinations(members, 2) if _root(parent, x) == _root(parent, y)}
    return out


def _root(parent: dict[int, int], n: int) -> int:
    while parent[n] != n:
        n = parent[n]
    return n


def linkable_recall(rows: list[Row], predicted: list[str]) -> dict[str, float | int]:
    """Share of the linkable pairs that ``predicted`` puts together."""
    pairs = linkable_pairs(rows)
    found = sum(predicted[x] == predicted[y] for x, y in pairs)
    true_pairs = sum(len(g) * (len(g) - 1) // 2 for g in _groups(rows).values())
    return {"linkable_pairs": len(pairs), "true_pairs": true_pairs,
            "recall_of_linkable": round(found / len(pairs), 4) if pairs else 1.0}


def _groups(rows: list[Row]) -> dict[int, list[int]]:
    groups: dict[int, list[int]] = defaultdict(list)
    for n, row in enumerate(rows):
        groups[row.pid].append(n)
    return groups
