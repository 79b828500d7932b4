"""A scored pair and its evidence: what the model returns and the store keeps (no splink here).

Kept apart from ``model`` so that importing the worker registry (every worker process does)
does not load splink, DuckDB and pyarrow: about 70 MB resident in each of a dozen processes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Evidence:
    attribute: str
    values: tuple[object, object]
    weight: float  # log2 Bayes factor of the level this attribute reached
    level: int  # splink's gamma: -1 missing, 0 disagrees, higher agrees more
    label: str = ""  # the level's label in the model: what it means, whatever its number


@dataclass(frozen=True)
class ScoredPair:
    """Two customers, how likely they are one person, and why."""

    a: str
    b: str
    probability: float
    weight: float
    evidence: tuple[Evidence, ...]
