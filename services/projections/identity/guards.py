"""Guards against over-merging: values never used to match, and identifiers that join too many people.

Defaults are deliberately cautious: a wrong merge shows one person another person's
history, which is worse than a split card an agent can still find by search.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rapidfuzz.distance import JaroWinkler

from events.identifiers import Identifier
from events.names import KNOWN_FIRST_NAMES, normal_birth_date, parse_name
from kartoteka.settings import Settings

_JUNK_LOCAL_PARTS = re.compile(
    r"^(no-?reply|do-?not-?reply|mailer-daemon|postmaster|bounce[s]?|notifications?|info|test)(\+.*)?$"
)


@dataclass(frozen=True)
class GuardConfig:
    """Configurable guard settings (``KARTOTEKA_IDENTITY_*`` in the environment)."""

    blocked_values: frozenset[str] = field(default_factory=frozenset)  # keys, e.g. "phone:+74951234567"
    max_merges_per_identifier: int = 2
    merge_window: timedelta = timedelta(days=30)


def is_junk(identifier: Identifier, config: GuardConfig) -> str | None:
    """Why a value must never be used to match people, or None when it may."""
    if identifier.key in config.blocked_values:
        return "blocked value (configured, e.g. a company switchboard)"
    if identifier.kind == "phone":
        if not identifier.valid:
            return "not a valid phone number"
        digits = identifier.value.lstrip("+")
        national = digits[1:] if digits.startswith("7") else digits
        if len(set(national)) <= 2:
            return "placeholder number (repeated digits)"
        if national in ("1234567890", "9876543210", "0123456789"):
            return "placeholder number (sequential digits)"
    if identifier.kind == "email":
        local = identifier.value.split("@", 1)[0]
        if _JUNK_LOCAL_PARTS.match(local):
            return "role or no-reply address"
    if not identifier.value.strip(":"):
        return "empty value"
    return None


def merges_exhausted(times: Sequence[datetime], at: datetime, config: GuardConfig) -> bool:
    """True when the identifier already joined as many customers as the window allows."""
    recent = [t for t in times if abs(at - t) <= config.merge_window]
    return len(recent) >= config.max_merges_per_identifier


def guard_config(settings: Settings) -> GuardConfig:
    """The guards as configured (``KARTOTEKA_IDENTITY_*``)."""
    blocked = frozenset(k.strip() for k in settings.identity_blocked.split(",") if k.strip())
    return GuardConfig(blocked_values=blocked, max_merges_per_identifier=settings.identity_max_merges,
                       merge_window=timedelta(days=settings.identity_merge_window_days))


# Two known first names (diminutives folded) that differ are two people (oleg/olga); otherwise
# names at least this similar may be one person's typo (irina/irnna 0.89, irina/galina 0.7).
NAME_SIMILARITY = 0.8


@dataclass(frozen=True)
class Traits:
    """Strong attributes of a customer, first known wins: what a guarded merge compares."""

    birth_date: str | None = None
    first_name: str | None = None  # phonetic key, diminutives folded
    surname: str | None = None

    def filled_from(self, other: Traits) -> Traits:
        return Traits(self.birth_date or other.birth_date, self.first_name or other.first_name,
                      self.surname or other.surname)


def traits_of(name: str | None, birth_date: object) -> Traits:
    parsed = parse_name(name)
    return Traits(normal_birth_date(birth_date) if birth_date else None, parsed.first, parsed.surname)


def conflict(a: Traits, b: Traits) -> str | None:
    """Why two customers sharing an identifier are still probably two people, or None.

    Words only, no values: the reason is recorded on both cards, and one card must not show the
    other person's birth date or name (nor keep it after that person is erased). Supervisors see
    the values in the proposal the finder makes of the held link.
    """
    if a.birth_date and b.birth_date and not _one_typo_apart(a.birth_date, b.birth_date):
        return "different birth dates"
    if a.first_name and b.first_name and a.first_name != b.first_name and (
            {a.first_name, b.first_name} <= KNOWN_FIRST_NAMES
            or JaroWinkler.similarity(a.first_name, b.first_name) < NAME_SIMILARITY):
        return "clearly different first names"
    return None


def _one_typo_apart(a: str, b: str) -> bool:
    """Equal, one digit mistyped, or day and month swapped: one person's birth date, written twice."""
    if sum(x != y for x, y in zip(a, b, strict=False)) <= 1:
        return True
    return a[:4] == b[:4] and a[5:7] == b[8:10] and a[8:10] == b[5:7]
