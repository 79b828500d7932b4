"""A customer's matching record and its blocking keys (pure).

The record is what the Fellegi-Sunter model compares; the blocking keys decide which pairs
it compares at all: a pair is scored only when the two records share a key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from unidecode import unidecode

from events.names import KNOWN_FIRST_NAMES, normal_birth_date, parse_name, phonetic

# Words that say what kind of place a token is, not which one: dropped from address keys.
_NOISE_WORDS = (
    "g gor gorod ul ulica ulitsa d dom kv kvartira pr prosp prospekt per pereulok korp k str stroenie "
    "obl oblast r raion pos poselok posiolok sh shosse mikroraion b bulvar pl ploshchad nab mkr "
    "st street rd road ave avenue apt flat unit")
_ADDRESS_NOISE = frozenset(_NOISE_WORDS.split())
_TOKENS = re.compile(r"[a-z]+|\d+")


@dataclass(frozen=True)
class MatchRecord:
    """What is known of one customer for matching; every field may be missing."""

    customer_id: str
    first_name: str | None = None
    surname: str | None = None
    birth_date: str | None = None  # YYYY-MM-DD
    address: str | None = None
    company: str | None = None
    phones: tuple[str, ...] = ()  # digits only, national significant part
    emails: tuple[str, ...] = ()
    block_keys: tuple[str, ...] = field(default=(), compare=False)
    patronymic: str | None = None  # phonetic key, as the names: "sergevich"

    def row(self) -> dict[str, object]:
        """The record as the model's input row (lists for the array comparisons)."""
        place = without_postcode(self.address)
        return {"unique_id": self.customer_id, "first_name": self.first_name, "surname": self.surname,
                "patronymic": self.patronymic,
                "first_known": self.first_name in KNOWN_FIRST_NAMES if self.first_name else None,
                "birth_date": self.birth_date, "address": place, "company": self.company,
                "house": street_key(place) if place else None,
                "phones": list(self.phones) or None, "phone_masks": phone_masks(self.phones) or None,
                "address_numbers": address_numbers(self.address) or None,
                "address_words": sorted(set(place.split())) if place else None,
                "emails": list(self.emails) or None,
                "mailboxes": sorted({mailbox(e) for e in self.emails}) or None,
                "block_keys": list(self.block_keys)}


def normal_address(text: str | None) -> str | None:
    """Lower-case Latin tokens without kind words, in order: "г. Москва, ул. Ленина, д.5" -> "moskva lenina 5"."""
    if not text:
        return None
    tokens = [t for t in _TOKENS.findall(unidecode(text).lower().replace("'", "")) if t not in _ADDRESS_NOISE]
    # A postcode (written first in Russia, often left out) goes last, where it moves nothing else.
    postcodes = [t for t in tokens if _is_postcode(t)]
    return " ".join([t for t in tokens if not _is_postcode(t)] + postcodes) or None


def without_postcode(address: str | None) -> str | None:
    """The normalised address without its postcode, which one record has and another leaves out."""
    if not address:
        return None
    return " ".join(t for t in address.split() if not _is_postcode(t)) or None


def _is_postcode(token: str) -> bool:
    return token.isdigit() and len(token) >= 5


def normal_company(text: str | None) -> str | None:
    if not text:
        return None
    words = [w for w in _TOKENS.findall(unidecode(text).lower()) if w not in ("ooo", "oao", "zao", "pao", "ip", "ltd")]
    return " ".join(words) or None


def national_digits(phone: str) -> str:
    """The last ten digits: +7 912..., 8 912... and 912... are one number."""
    digits = re.sub(r"\D", "", phone)
    return digits[-10:]


def phone_masks(phones: Iterable[str]) -> list[str]:
    """Each number with one digit blanked, and with each adjacent pair in order: two numbers one
    mistyped or two swapped digits apart share a mask."""
    masks: set[str] = set()
    for p in phones:
        masks.update(p[:i] + "_" + p[i + 1:] for i in range(len(p)))
        masks.update(p[:i] + "~" + "".join(sorted(p[i:i + 2])) + p[i + 2:] for i in range(len(p) - 1))
    return sorted(masks)


def address_numbers(address: str | None) -> list[str]:
    """House, flat and postcode numbers: the part of an address people rarely get wrong."""
    return sorted(set(re.findall(r"\d+", address))) if address else []


def street_key(address: str) -> str | None:
    """The house number with its street ("lenina 5 12" and "15 lawley street" forms)."""
    tokens = address.split()
    for i, token in enumerate(tokens):
        if token.isdigit() and not _is_postcode(token):
            street = tokens[i - 1] if i and not tokens[i - 1].isdigit() else (tokens[i + 1:i + 2] or [""])[0]
            return f"{token}:{street}" if street and not street.isdigit() else None
    return None


def email_local(email: str) -> str:
    return email.split("@", 1)[0].replace(".", "").split("+", 1)[0]


def mailbox(email: str) -> str:
    """One mailbox however its owner spells it (dots, +tags); the same login at another provider
    is not one: logins are made of names, so it would count the name a second time."""
    return f"{email_local(email)}@{email.rsplit('@', 1)[-1]}"


def block_keys(r: MatchRecord) -> tuple[str, ...]:
    """The blocking rules, as keys: records sharing any one key become a candidate pair."""
    keys = {f"p:{m}" for m in phone_masks(r.phones)}
    keys |= {f"e:{email_local(e)}" for e in r.emails if len(email_local(e)) >= 4}
    names = [n for n in (r.first_name, r.surname) if n]
    if r.birth_date:  # same birth date: a few dozen people even among a million
        keys.add(f"b:{r.birth_date}")
        if r.first_name:  # a mistyped day with a misspelt surname
            keys.add(f"fb:{r.first_name}:{r.birth_date[:7]}")
    if r.address:  # same address + a similar name; same house on the same street
        place = without_postcode(r.address)
        keys |= {f"a:{place}:{n[:1]}" for n in names}
        if street := street_key(r.address):
            keys.add(f"h:{street}")
            number = street.split(":", 1)[0]
            if r.first_name:  # the same house number with the street and the surname misspelt
                keys.add(f"fh:{r.first_name}:{number}")
            if r.surname:  # ... or with the street and the first name misspelt
                keys.add(f"sh:{r.surname}:{number}")
    if r.first_name and r.surname:  # transliteration-equal names (either order)
        keys.add("n:" + " ".join(sorted((r.first_name, r.surname))))
    return tuple(sorted(keys))


def match_record(customer_id: str, *, names: Iterable[str] = (), birth_date: object = None,
                 address: str | None = None, company: str | None = None,
                 phones: Iterable[str] = (), emails: Iterable[str] = ()) -> MatchRecord:
    """The record of a customer from what was seen of them; the latest name that parses wins."""
    parsed = [p for p in (parse_name(n) for n in names) if p.first or p.surname]
    name = parsed[-1] if parsed else None
    # One's patronymic does not change: the latest one given counts, even when the latest name lacks it.
    patronymic = next((p.patronymic for p in reversed(parsed) if p.patronymic), None)
    record = MatchRecord(
        customer_id, name.first if name else None, name.surname if name else None,
        normal_birth_date(birth_date) if birth_date else None, normal_address(address), normal_company(company),
        tuple(sorted({d for p in phones if len(d := national_digits(p)) >= 7})),
        tuple(sorted({e.strip().lower() for e in emails if "@" in e})), patronymic=patronymic)
    return MatchRecord(**{**record.__dict__, "block_keys": block_keys(record)})


__all__ = ["MatchRecord", "block_keys", "match_record", "normal_address", "normal_birth_date", "phonetic"]
