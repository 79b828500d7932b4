"""The canonical interaction, exactly as channels send it (HTTP contract v1)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from events.identifiers import Identifier, identifiers_of

MAX_BODY_CHARS = 100_000
MAX_DETAILS_BYTES = 64 * 1024
MAX_DETAILS_DEPTH = 8
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
        if not self.identifiers():
            raise ValueError("customer has no usable phone, email or handle")
        return self

    def identifiers(self) -> list[Identifier]:
        return identifiers_of(self.phone, self.email, self.handle)


def _depth(value: Any, level: int = 0) -> int:
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


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

    @field_validator("details")
    @classmethod
    def _bounded_details(cls, value: dict[str, Any]) -> dict[str, Any]:
        if _depth(value) > MAX_DETAILS_DEPTH:
            raise ValueError(f"details nest deeper than {MAX_DETAILS_DEPTH} levels")
        try:
            size = len(json.dumps(value, ensure_ascii=False).encode())
        except (TypeError, ValueError) as exc:  # not JSON-serialisable (an adapter built it in Python)
            raise ValueError(f"details must be plain JSON: {exc}") from exc
        if size > MAX_DETAILS_BYTES:
            raise ValueError(f"details exceed {MAX_DETAILS_BYTES} bytes")
        return value

    def primary_identifier(self) -> Identifier:
        """The identifier the interaction is keyed by on Kafka."""
        return self.customer.identifiers()[0]
