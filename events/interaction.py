"""The canonical interaction, exactly as channels send it (HTTP contract v1)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from enum import StrEnum
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from events.identifiers import Identifier, identifiers_tuple

MAX_BODY_CHARS = 100_000
MAX_DETAILS_BYTES = 64 * 1024
MAX_DETAILS_DEPTH = 8
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)

ShortText = Annotated[str, Field(min_length=1, max_length=256, pattern=r"\S")]


class Channel(StrEnum):
    """Where an interaction came from."""

    call = "call"
    email = "email"
    chat = "chat"
    sms = "sms"
    web_form = "web_form"


class Direction(StrEnum):
    """Who started the exchange."""

    inbound = "inbound"
    outbound = "outbound"


def _no_nul(value: str | None) -> str | None:
    # PostgreSQL text and jsonb cannot hold U+0000: accepting it would acknowledge an
    # interaction that the timeline projection can only dead-letter.
    if value is not None and "\x00" in value:
        raise ValueError("text must not contain NUL (U+0000) characters")
    return value


class CustomerRef(BaseModel):
    """What the channel knows about the person; at least one identifier is required."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    phone: Annotated[str, Field(max_length=64)] | None = None
    email: Annotated[str, Field(max_length=320)] | None = None
    name: Annotated[str, Field(max_length=256)] | None = None
    handle: Annotated[str, Field(max_length=256)] | None = None

    @model_validator(mode="after")
    def _needs_an_identifier(self) -> CustomerRef:
        if not (self.phone or self.email or self.handle):
            raise ValueError("customer needs at least one of phone, email, handle")
        if not identifiers_tuple(self.phone, self.email, self.handle):
            raise ValueError("customer has no usable phone, email or handle")
        return self

    _text_without_nul = field_validator("phone", "email", "name", "handle")(_no_nul)

    def identifiers(self) -> list[Identifier]:
        # Cached by value, not on the instance: a pydantic private attribute read during
        # validation (before private state exists) cost more than all the rest of it.
        return list(identifiers_tuple(self.phone, self.email, self.handle))


_NESTING = (dict, list)


def details_depth(value: Any, limit: int = MAX_DETAILS_DEPTH) -> int:
    """How deep ``value`` nests, counted without recursion and given up past ``limit``.

    A recursive walk raised RecursionError (a 500) on details nested ~1000 levels deep.
    """
    if isinstance(value, dict):  # the usual flat details answer without the walk
        for child in value.values():
            if isinstance(child, _NESTING):
                break
        else:
            return 1
    deepest, stack = 0, [(value, 0)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level + 1)
            if deepest > limit:
                return deepest
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, level + 1) for child in children)
    return deepest


def strings_in(value: Any) -> Iterator[str]:
    """Every key and string anywhere in a JSON value (iterative: deep nesting is no risk)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def details_json(value: Any) -> str:
    """``json.dumps(value, ensure_ascii=False)``, with its C encoder built once, not per call.

    It skips the circular-reference check: only called once ``details_depth`` bounded the nesting,
    which a cycle cannot pass.
    """
    if _C_ENCODE is None:
        return _DETAILS_JSON.encode(value)
    return "".join(_C_ENCODE(value, 0))


_DETAILS_JSON = json.JSONEncoder(ensure_ascii=False)
_C_ENCODE = (
    None if c_make_encoder is None else c_make_encoder(
        None, _DETAILS_JSON.default, encode_basestring, None, ": ", ", ", False, False, True)
)


def has_nul(value: Any) -> bool:
    """True when a key or string anywhere in ``value`` holds U+0000 (jsonb refuses it)."""
    return any("\x00" in text for text in strings_in(value))


class Interaction(BaseModel):
    """One call, email, chat, SMS or web form, as the contract defines it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: Channel
    external_id: ShortText
    occurred_at: datetime
    direction: Direction
    customer: CustomerRef
    agent_id: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    subject: Annotated[str, Field(max_length=1000)] | None = None
    body: Annotated[str, Field(max_length=MAX_BODY_CHARS)] | None = None
    details: dict[str, Any] = Field(default_factory=dict)

    @field_validator("occurred_at", mode="before")
    @classmethod
    def _rfc3339_with_offset(cls, value: Any) -> Any:
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise ValueError("occurred_at needs a UTC offset")
            return value
        if not isinstance(value, str) or not _RFC3339.match(value):
            raise ValueError(
                "occurred_at must be RFC 3339 with an offset, e.g. 2024-05-01T10:00:00+03:00"
            )
        return value

    @field_validator("occurred_at")
    @classmethod
    def _representable(cls, value: datetime) -> datetime:
        # 9999-12-31T23:59:59-14:00 parses, but is year 10000 in UTC: Python cannot convert
        # it and PostgreSQL would hand back a timestamp no reader can load. Keep a day of slack
        # on both ends so every session time zone can read it back.
        if 2 <= value.year <= 9998:
            return value  # inside the bounds in any offset, without converting
        try:
            utc = value.astimezone(UTC)
        except OverflowError:
            utc = None
        if utc is None or not EARLIEST <= utc <= LATEST:
            raise ValueError(
                f"occurred_at must lie between {EARLIEST.date()} and {LATEST.date()} (UTC)"
            )
        return value

    _text_without_nul = field_validator("external_id", "agent_id", "subject", "body")(_no_nul)

    @field_validator("details")
    @classmethod
    def _bounded_details(cls, value: dict[str, Any]) -> dict[str, Any]:
        if details_depth(value) > MAX_DETAILS_DEPTH:
            raise ValueError(f"details nest deeper than {MAX_DETAILS_DEPTH} levels")
        try:
            text = details_json(value)
            size = len(text.encode())
        except (TypeError, ValueError) as exc:  # not JSON-serialisable (an adapter built it in Python)
            raise ValueError(f"details must be plain JSON: {exc}") from exc
        if "\\u0000" in text and has_nul(value):
            raise ValueError("details must not contain NUL (U+0000) characters")
        if size > MAX_DETAILS_BYTES:
            raise ValueError(f"details exceed {MAX_DETAILS_BYTES} bytes")
        return value

    def primary_identifier(self) -> Identifier:
        """The identifier the interaction is keyed by on Kafka."""
        customer = self.customer
        return identifiers_tuple(customer.phone, customer.email, customer.handle)[0]
