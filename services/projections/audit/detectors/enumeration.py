"""Enumeration detector: walking the customer base through search.

Three signals inside a sliding window of searches: a run of queries each "the next" of the
one before (+79120000001, +79120000002, ... or "а", "б", "в" ... or "aa", "ab", ...), many
bare-prefix queries (one or two characters), or simply far more searches than a person on
calls makes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from services.projections.audit.detectors.common import (
    SAMPLE_SIZE,
    Bucket,
    PeerCounts,
    evidence,
    in_order,
    make_alert,
)
from services.projections.audit.detectors.config import DEFAULT_CONFIG, DetectorConfig
from services.projections.audit.detectors.model import Access, Alert, EmployeeContext

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


def query_step(prev: str, cur: str) -> int | None:
    """How far ``cur`` is after ``prev`` as a number or as a same-length word, if comparable."""
    a, b = _as_number(prev), _as_number(cur)
    if a is not None and b is not None:
        return b - a
    ra, rb = _alpha_rank(prev), _alpha_rank(cur)
    if ra is not None and rb is not None and ra[:2] == rb[:2]:
        return rb[2] - ra[2]
    return None


def _continues(prev: Access, cur: Access, cfg: DetectorConfig) -> bool:
    step = query_step(normal_query(prev.query), normal_query(cur.query))
    return (
        step is not None
        and 1 <= step <= cfg.enum_max_step
        and (cur.at - prev.at <= cfg.enum_max_gap)
    )


def _is_prefix(access: Access, cfg: DetectorConfig) -> bool:
    return 0 < len(normal_query(access.query).replace(" ", "")) <= cfg.enum_prefix_len


def _first_trigger(
    searches: list[Access], begin: int, cfg: DetectorConfig
) -> tuple[int, int] | None:
    """(first, trigger) indexes of the earliest search window where any signal fires."""
    run_start = left = begin
    prefixes = 0
    for right in range(begin, len(searches)):
        if right > begin and not _continues(searches[right - 1], searches[right], cfg):
            run_start = right
        prefixes += _is_prefix(searches[right], cfg)
        while searches[right].at - searches[left].at >= cfg.enum_window:
            prefixes -= _is_prefix(searches[left], cfg)
            left += 1
        starts = [run_start] if right - run_start + 1 > cfg.enum_sequential_run else []
        if prefixes > cfg.enum_prefix_count or right - left + 1 > cfg.enum_search_count:
            starts.append(left)
        if starts:
            return min(starts), right
    return None


def _longest_run(searches: list[Access], cfg: DetectorConfig) -> int:
    longest = run = min(len(searches), 1)
    for prev, cur in zip(searches, searches[1:], strict=False):
        run = run + 1 if _continues(prev, cur, cfg) else 1
        longest = max(longest, run)
    return longest


def _enumeration_alert(
    ctx: EmployeeContext,
    cfg: DetectorConfig,
    found: list[Access],
    window: tuple[datetime, datetime],
) -> Alert:
    returned = Bucket()
    for search in found:
        returned.add(search, search.customer_ids)
    signals = {
        "sequential_run": (_longest_run(found, cfg), cfg.enum_sequential_run),
        "prefix_searches": (sum(_is_prefix(s, cfg) for s in found), cfg.enum_prefix_count),
        "searches": (len(found), cfg.enum_search_count),
    }
    ratio = max(count / max(limit, 1) for count, limit in signals.values())
    ev = evidence(
        window,
        found,
        returned.customers,
        **{name: count for name, (count, _) in signals.items()},
        signals=[name for name, (count, limit) in signals.items() if count > limit],
        threshold={name: limit for name, (_, limit) in signals.items()},
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
    alerts: list[Alert] = []
    begin = 0
    while (hit := _first_trigger(searches, begin, cfg)) is not None:
        first, trigger = hit
        start = searches[first].at
        # A slow run can outlast the window; the alert then covers all of it.
        window = (start, max(start + cfg.enum_window, searches[trigger].at))
        begin = first
        while begin < len(searches) and searches[begin].at <= window[1]:
            begin += 1
        alerts.append(_enumeration_alert(ctx, cfg, searches[first:begin], window))
    return alerts
