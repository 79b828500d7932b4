"""Enumeration detector: walking the customer base through search.

Four signals inside a sliding window of searches: a run of queries each "the next" of the
one before (+79120000001, +79120000002, ... or "а", "б", "в" ... or "aa", "ab", ...), many
bare-prefix queries (one or two characters), many different names (forty surnames in a few
minutes), or simply far more searches than a person on calls makes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from services.projections.detect.detectors.common import (
    SAMPLE_SIZE,
    Bucket,
    PeerCounts,
    evidence,
    in_order,
    make_alert,
)
from services.projections.detect.detectors.config import DEFAULT_CONFIG, DetectorConfig
from services.projections.detect.detectors.model import Access, Alert, EmployeeContext

# Alphabetical order as people enumerate it; ё sits after е here, unlike in Unicode.
ALPHABETS = ("абвгдеёжзийклмнопрстуфхцчшщъыьэюя", "abcdefghijklmnopqrstuvwxyz")
_PHONE_NOISE = str.maketrans("", "", " +-().")


def normal_query(query: str | None) -> str:
    return " ".join((query or "").lower().split())


def _as_number(query: str) -> int | None:
    digits = query.translate(_PHONE_NOISE)
    return int(digits) if digits.isascii() and digits.isdigit() else None


def _alpha_rank(query: str) -> tuple[int, int, int] | None:
    """(alphabet, length, position) of a one-alphabet word read as a base-N number."""
    for index, alphabet in enumerate(ALPHABETS):
        if query and all(ch in alphabet for ch in query):
            rank = 0
            for ch in query:
                rank = rank * len(alphabet) + alphabet.index(ch)
            return index, len(query), rank
    return None


Parsed = tuple[int | None, tuple[int, int, int] | None]
"""A normalised query as a number, or else as a one-alphabet word (see ``_alpha_rank``)."""


def _parsed(query: str) -> Parsed:
    number = _as_number(query)
    # A number holds a digit, which no alphabet has: its word rank would be None anyway.
    return number, _alpha_rank(query) if number is None else None


def _step(prev: Parsed, cur: Parsed) -> int | None:
    (a, ra), (b, rb) = prev, cur
    if a is not None and b is not None:
        return b - a
    if ra is not None and rb is not None and ra[:2] == rb[:2]:
        return rb[2] - ra[2]
    return None


def query_step(prev: str, cur: str) -> int | None:
    """How far ``cur`` is after ``prev`` as a number or as a same-length word, if comparable."""
    return _step(_parsed(prev), _parsed(cur))


@dataclass(frozen=True)
class _Signals:
    """Per search, once: whether it continues the search before it (the next query, soon
    enough), whether it is a bare prefix. Every window and every alert asks again of the same
    searches, and parsing queries was most of this detector's cost."""

    continues: list[bool]
    prefix: list[bool]
    name: list[str | None]

    @classmethod
    def of(cls, searches: list[Access], cfg: DetectorConfig) -> _Signals:
        queries = [normal_query(s.query) for s in searches]
        parsed = [_parsed(q) for q in queries]
        continues = [False]
        for i in range(1, len(searches)):
            step = _step(parsed[i - 1], parsed[i])
            continues.append(
                step is not None
                and 1 <= step <= cfg.enum_max_step
                and searches[i].at - searches[i - 1].at <= cfg.enum_max_gap
            )
        prefix = [0 < len(q.replace(" ", "")) <= cfg.enum_prefix_len for q in queries]
        # A name: letters only (a phone, an email or an id is not); its first word, so that
        # "Иванова" and "Иванова Анна" are one name.
        name = [q.split()[0] if q and n is None and q.replace(" ", "").isalpha() else None
                for q, (n, _) in zip(queries, parsed, strict=True)]
        return cls(continues, prefix, name)


def _first_trigger(
    searches: list[Access], signals: _Signals, begin: int, cfg: DetectorConfig
) -> tuple[int, int] | None:
    """(first, trigger) indexes of the earliest search window where any signal fires."""
    run_start = left = begin
    prefixes = 0
    names: Counter[str] = Counter()
    for right in range(begin, len(searches)):
        if right > begin and not signals.continues[right]:
            run_start = right
        prefixes += signals.prefix[right]
        names.update(filter(None, [signals.name[right]]))
        while searches[right].at - searches[left].at >= cfg.enum_window:
            prefixes -= signals.prefix[left]
            if (gone := signals.name[left]) is not None:
                names[gone] -= 1
                if not names[gone]:
                    del names[gone]
            left += 1
        starts = [run_start] if right - run_start + 1 > cfg.enum_sequential_run else []
        if (prefixes > cfg.enum_prefix_count or right - left + 1 > cfg.enum_search_count
                or len(names) > cfg.enum_name_count):
            starts.append(left)
        if starts:
            return min(starts), right
    return None


def _longest_run(continues: list[bool]) -> int:
    """The longest run of searches, given whether each continues the one before (the first
    of them starts a run whatever it says)."""
    longest = run = min(len(continues), 1)
    for step in continues[1:]:
        run = run + 1 if step else 1
        longest = max(longest, run)
    return longest


def _enumeration_alert(
    ctx: EmployeeContext,
    cfg: DetectorConfig,
    found: list[Access],
    signals: _Signals,
    first: int,
    window: tuple[datetime, datetime],
) -> Alert:
    returned = Bucket()
    for search in found:
        returned.add(search, search.customer_ids)
    end = first + len(found)
    signal_counts = {
        "sequential_run": (_longest_run(signals.continues[first:end]), cfg.enum_sequential_run),
        "prefix_searches": (sum(signals.prefix[first:end]), cfg.enum_prefix_count),
        "searches": (len(found), cfg.enum_search_count),
        "different_names": (len({n for n in signals.name[first:end] if n}), cfg.enum_name_count),
    }
    ratio = max(count / max(limit, 1) for count, limit in signal_counts.values())
    ev = evidence(
        window,
        found,
        returned.customers,
        **{name: count for name, (count, _) in signal_counts.items()},
        signals=[name for name, (count, limit) in signal_counts.items() if count > limit],
        threshold={name: limit for name, (_, limit) in signal_counts.items()},
        sample_queries=[normal_query(s.query) for s in found[:SAMPLE_SIZE]],
    )
    return make_alert(ctx, "enumeration", ratio, 1.0, window, ev)


def detect_enumeration(
    accesses: Sequence[Access],
    ctx: EmployeeContext,
    cfg: DetectorConfig = DEFAULT_CONFIG,
    *,
    peers: PeerCounts | None = None,
) -> list[Alert]:
    """Sequential or exhaustive searching: a run longer than ``enum_sequential_run``, more
    than ``enum_prefix_count`` bare prefixes or more than ``enum_search_count`` searches
    within ``enum_window``. Evidence counts the customers the searches returned."""
    searches = in_order(accesses, {"customer.search"})
    signals = _Signals.of(searches, cfg)
    alerts: list[Alert] = []
    begin = 0
    while (hit := _first_trigger(searches, signals, begin, cfg)) is not None:
        first, trigger = hit
        start = searches[first].at
        # A slow run can outlast the window; the alert then covers all of it.
        window = (start, max(start + cfg.enum_window, searches[trigger].at))
        begin = first
        while begin < len(searches) and searches[begin].at <= window[1]:
            begin += 1
        alerts.append(_enumeration_alert(ctx, cfg, searches[first:begin], signals, first, window))
    return alerts
