"""CloudEvents-shaped envelope, versioned type names, JSON (de)serialisation and upcasting."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

SPEC_VERSION: Literal["1.0"] = "1.0"


class Envelope(BaseModel):
    """CloudEvents 1.0 attribute names around a versioned payload."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    specversion: Literal["1.0"] = SPEC_VERSION
    id: str
    type: str
    source: str
    time: datetime
    subject: str | None = None
    datacontenttype: Literal["application/json"] = "application/json"
    sequence: int | None = None
    data: dict[str, Any]


class UnknownEventType(ValueError):
    """The type name is not one this build understands."""


class EventDecodeError(ValueError):
    """A record could not be turned into an event; the message says why."""


_MODELS: dict[str, type[BaseModel]] = {}
_UPCASTERS: dict[str, Callable[[dict[str, Any]], tuple[str, dict[str, Any]]]] = {}


def register(type_name: str) -> Callable[[type[BaseModel]], type[BaseModel]]:
    """Class decorator binding a payload model to its versioned type name."""

    def bind(model: type[BaseModel]) -> type[BaseModel]:
        _MODELS[type_name] = model
        model.event_type = type_name  # type: ignore[attr-defined]
        return model

    return bind


def register_upcaster(
    old_type: str, upcast: Callable[[dict[str, Any]], tuple[str, dict[str, Any]]]
) -> None:
    """Old versions are read by upcasting, never by editing a released model."""
    _UPCASTERS[old_type] = upcast


def type_of(model: type[BaseModel] | BaseModel) -> str:
    return model.event_type  # type: ignore[union-attr,no-any-return]


def wrap(
    payload: BaseModel,
    *,
    id: str,
    source: str,
    time: datetime,
    subject: str | None = None,
    sequence: int | None = None,
) -> Envelope:
    return Envelope(
        id=id,
        type=type_of(payload),
        source=source,
        time=time,
        subject=subject,
        sequence=sequence,
        data=payload.model_dump(mode="json"),
    )


def encode(envelope: Envelope) -> bytes:
    return envelope.model_dump_json().encode()


def serialise(
    payload: BaseModel,
    *,
    id: str,
    source: str,
    time: datetime,
    subject: str | None = None,
    sequence: int | None = None,
) -> bytes:
    """``encode(wrap(...))`` without building the envelope: ingest and the relay's hot path."""
    head = {"specversion": SPEC_VERSION, "id": id, "type": type_of(payload), "source": source,
            "time": time.isoformat(), "subject": subject, "datacontenttype": "application/json",
            "sequence": sequence}
    return b"".join((json.dumps(head, ensure_ascii=False)[:-1].encode(), b', "data": ',
                     payload.model_dump_json().encode(), b"}"))


def decode(raw: bytes | None) -> tuple[Envelope, BaseModel]:
    """Parse bytes into the envelope and its typed payload, upcasting old versions."""
    if raw is None:
        raise EventDecodeError("record has no value")
    try:
        envelope = Envelope.model_validate_json(raw)
    except (ValueError, ValidationError) as exc:
        raise EventDecodeError(f"not a valid envelope: {exc}") from exc
    type_name, data = envelope.type, envelope.data
    while type_name in _UPCASTERS:
        type_name, data = _UPCASTERS[type_name](data)
    model = _MODELS.get(type_name)
    if model is None:
        raise EventDecodeError(f"unknown event type {envelope.type!r}")
    try:
        return envelope, model.model_validate(data)
    except ValidationError as exc:
        raise EventDecodeError(f"invalid {type_name} payload: {exc}") from exc
