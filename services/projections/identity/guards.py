"""Guards against over-merging: values never used to match, and identifiers that join too many people.

Defaults are deliberately cautious: a wrong merge shows one person another person's
history, which is worse than a split card an agent can still find by search.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from events.identifiers import Identifier
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
