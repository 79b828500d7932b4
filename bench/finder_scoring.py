"""CPU of one duplicate-finder scoring (``model.score_new``) by batch size, in this process.

``python -m bench.finder_scoring``: random customers (one phone, a name, a birth date) scored
with the shipped model, ``new`` changed records against ``known`` candidates. A scoring costs
about the same for 1 record as for 100, which is why the finder gathers its batches
(``KARTOTEKA_DUPLICATES_GATHER_MS``).
"""

from __future__ import annotations

import logging
import random
import resource
import uuid

from services.projections.duplicates import model
from services.projections.duplicates.attributes import MatchRecord
from services.projections.duplicates.worker import default_model

SIZES = ((1, 5), (5, 25), (20, 100), (100, 500), (400, 2000), (2000, 10000))
FIRST = ("ivan", "petr", "anna", "olga", "irina", "sergei", "maria", "dmitry", "elena", "alexei")
SURNAMES = ("ivanov", "petrov", "sidorov", "smirnov", "kuznetsov", "popov", "volkov", "sokolov")


def _record(rnd: random.Random) -> MatchRecord:
    born = f"19{rnd.randint(50, 99)}-0{rnd.randint(1, 9)}-1{rnd.randint(0, 9)}"
    return MatchRecord(str(uuid.UUID(int=rnd.getrandbits(128))), rnd.choice(FIRST), rnd.choice(SURNAMES),
                       born, phones=(f"9{rnd.randint(100_000_000, 999_999_999)}",))


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # every thread, DuckDB's included
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    logging.disable(logging.WARNING)  # splink warns of untrained levels on every linker
    rnd, params = random.Random(1), default_model()
    model.score_new([_record(rnd) for _ in range(5)], [_record(rnd) for _ in range(20)], params, 0.9)  # imports
    for new, known in SIZES:
        changed, candidates = [_record(rnd) for _ in range(new)], [_record(rnd) for _ in range(known)]
        rounds = 3 if new < 1000 else 1
        started = _cpu_s()
        for _ in range(rounds):
            model.score_new(changed, candidates, params, 0.9)
        spent = (_cpu_s() - started) / rounds
        print(f"new {new:5d} known {known:6d}: {spent * 1000:7.1f} ms CPU per scoring,"
              f" {spent / new * 1e6:9.0f} us per changed record")


if __name__ == "__main__":
    main()
