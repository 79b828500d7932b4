"""Languages of the pages: the message catalogues, the choice of language, and formatting of
dates, durations and phone numbers per language (phonenumbers for the national spelling)."""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import phonenumbers

LANGUAGES = ("ru", "en")
DEFAULT = "ru"
_MESSAGES = Path(__file__).parent / "messages"
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@cache
def catalogue(lang: str) -> dict[str, str]:
    """Every label of the pages in one language."""
    return dict(json.loads((_MESSAGES / f"{lang}.json").read_text(encoding="utf-8")))


def choose(asked: str | None, remembered: str | None, accept_language: str | None) -> str:
    """``?lang=`` first, then the language remembered for the session, then Accept-Language."""
    for candidate in (asked, remembered):
        if candidate in LANGUAGES:
            return str(candidate)
    ranked: list[tuple[float, str]] = []
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((quality, tag.split("-")[0].lower()))
    for _, tag in sorted(ranked, key=lambda r: -r[0]):
        if tag in LANGUAGES:
            return tag
    return DEFAULT


class Formatter:
    """Labels, dates and numbers in one language and time zone (a page's ``t``)."""

    def __init__(self, lang: str, zone: str) -> None:
        self.lang, self.zone = lang, ZoneInfo(zone)
        self.messages = catalogue(lang)

    def __call__(self, key: str) -> str:
        return self.messages.get(key, key)

    def when(self, value: datetime | str | None) -> str:
        """26.11.2026 14:05 in Russian, Nov 26, 2026 2:05 PM in English (local time)."""
        at = _as_datetime(value)
        if at is None:
            return ""
        local = at.astimezone(self.zone)
        if self.lang == "ru":
            return local.strftime("%d.%m.%Y %H:%M")
        hour = local.hour % 12 or 12
        return (f"{_MONTHS_EN[local.month - 1]} {local.day}, {local.year} "
                f"{hour}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}")

    def day(self, value: date | str | None) -> str:
        if value is None:
            return ""
        d = date.fromisoformat(value[:10]) if isinstance(value, str) else value
        return d.strftime("%d.%m.%Y") if self.lang == "ru" else f"{_MONTHS_EN[d.month - 1]} {d.day}, {d.year}"

    def phone(self, e164: str) -> str:
        """The national spelling for Russian (8 (912) 345-67-89), international for English."""
        try:
            number = phonenumbers.parse(e164, None)
        except phonenumbers.NumberParseException:
            return e164
        style = (phonenumbers.PhoneNumberFormat.NATIONAL if self.lang == "ru"
                 else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        return phonenumbers.format_number(number, style)

    def duration(self, seconds: object) -> str:
        if not isinstance(seconds, int | float) or isinstance(seconds, bool):
            return ""
        total = int(seconds)
        return f"{total // 60}:{total % 60:02d}" + (" мин" if self.lang == "ru" else " min")


def _as_datetime(value: datetime | str | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
