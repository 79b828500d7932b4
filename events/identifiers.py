"""Canonical customer identifiers: phones in E.164, emails case-folded, handles as network:handle."""

from __future__ import annotations

import re
from email.utils import parseaddr
from functools import lru_cache
from typing import Literal, NamedTuple

import phonenumbers

IdentifierKind = Literal["phone", "email", "handle"]
DEFAULT_REGION = "RU"
_HANDLE_NETWORK = re.compile(r"^[a-z][a-z0-9_.-]{0,31}$")
_NON_DIGIT = re.compile(r"\D")
# Spellings with a shortcut that gives the same answer as the general path.
_PLAIN_RU = re.compile(r"\+7[1-9][0-9]{9}")
_PLAIN_EMAIL = re.compile(r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


class Identifier(NamedTuple):
    """One normalised identifier; ``valid`` is False for values kept raw (unparseable)."""

    kind: IdentifierKind
    value: str
    valid: bool = True

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.value}"


# Not cached on their own: :func:`identifiers_tuple` caches whole customer references, so a
# phone's or e-mail's own cache was only asked on its misses (0 hits in 45,000 look-ups per
# worker over a 100,000-interaction drain, while holding the entries: bench/README.md, "Memory").
def normalise_phone(raw: str, region: str = DEFAULT_REGION) -> str | None:
    """E.164 for a valid number in any common spelling, else None."""
    text = raw.strip()
    if not text:
        return None
    digits = _NON_DIGIT.sub("", text)
    # "8 912 ..." is the Russian trunk prefix; "7912..." without "+" is an international spelling.
    if region == "RU" and not text.startswith("+") and len(digits) == 11 and digits[0] in "78":
        text = "+7" + digits[1:]
    if region == "RU" and _PLAIN_RU.fullmatch(text):
        # The PhoneNumber phonenumbers.parse builds for exactly this spelling (the unit tests
        # compare both), without parsing it: a third of ingest's CPU for a new number went
        # there. Validity stays phonenumbers' call.
        number = phonenumbers.PhoneNumber(country_code=7, national_number=int(text[2:]))
        return text if phonenumbers.is_valid_number(number) else None
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_identifier(raw: str, region: str = DEFAULT_REGION) -> Identifier | None:
    """A phone identifier; an invalid number is kept as its digits, marked not valid."""
    e164 = normalise_phone(raw, region)
    if e164 is not None:
        return Identifier("phone", e164)
    digits = _NON_DIGIT.sub("", raw)
    return Identifier("phone", digits, valid=False) if digits else None


def normalise_email(raw: str) -> str | None:
    """Trimmed, display name removed, case-folded; None when it is not an address."""
    text = raw.strip()
    if _PLAIN_EMAIL.fullmatch(text):
        # A bare ASCII address is what parseaddr would return unchanged (the unit tests
        # compare both), at a tenth of its cost; ASCII case-folding is lower-casing.
        return text.lower()
    return parsed_email(text)


def parsed_email(text: str) -> str | None:
    """The general path of :func:`normalise_email` (RFC 5322 parsing), for any spelling."""
    _, address = parseaddr(text.strip())
    address = address.strip().casefold()
    local, sep, domain = address.rpartition("@")
    labels = domain.split(".")
    if not sep or not local or len(labels) < 2 or not all(labels) or " " in address:
        return None
    return address


def normalise_handle(raw: str) -> str | None:
    """``network:handle`` with the network lower-cased and a leading ``@`` dropped."""
    network, sep, handle = raw.strip().partition(":")
    if not sep:
        network, handle = "chat", network
    network = network.strip().lower()
    handle = handle.strip().lstrip("@").casefold()
    if not handle or not _HANDLE_NETWORK.match(network):
        return None
    return f"{network}:{handle}"


def identifiers_of(
    phone: str | None = None, email: str | None = None, handle: str | None = None
) -> list[Identifier]:
    """Every usable identifier of a customer reference, strongest first."""
    return list(identifiers_tuple(phone, email, handle))


@lru_cache(maxsize=65536)  # one look-up per interaction for a returning customer
def identifiers_tuple(
    phone: str | None = None, email: str | None = None, handle: str | None = None
) -> tuple[Identifier, ...]:
    """:func:`identifiers_of` as an immutable (cacheable) tuple."""
    found: list[Identifier] = []
    if phone and (ident := phone_identifier(phone)) is not None:
        found.append(ident)
    if email and (value := normalise_email(email)) is not None:
        found.append(Identifier("email", value))
    if handle and (value := normalise_handle(handle)) is not None:
        found.append(Identifier("handle", value))
    return tuple(found)
