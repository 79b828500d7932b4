"""A scoring of the duplicate finder leaves nothing running behind it (its in-process DuckDBs closed)."""

from __future__ import annotations

import gc
import os

from services.projections.duplicates import model
from services.projections.duplicates.attributes import MatchRecord
from services.projections.duplicates.worker import default_model


def _threads() -> int:
    return len(os.listdir("/proc/self/task"))


def _records(prefix: str, n: int) -> list[MatchRecord]:
    # Pairs of one person: the same name, birth date and phone, and a blocking key in common.
    return [MatchRecord(f"00000000-0000-0000-0000-{prefix}{i:011d}", "ivan", "petrov", f"1980-01-{i % 3 + 10}",
                        phones=(f"91200000{i % 3:02d}",), block_keys=(f"phone:{i % 3}",)) for i in range(n)]


def test_scorings_leave_no_database_threads_behind_without_the_cycle_collector() -> None:
    params = default_model()
    new, known = _records("0", 6), _records("1", 12)
    found = model.score_new(new, known, params, 0.5)  # imports splink and starts what stays (BLAS, arrow)
    assert found, "same names and phones score as pairs"
    gc.disable()  # what lingers until a collection is what a busy worker holds between them
    try:
        before = _threads()
        for _ in range(3):
            assert model.score_new(new, known, params, 0.5) == found
            assert model.score(new + known, params, 0.5)
        assert _threads() == before
    finally:
        gc.enable()
