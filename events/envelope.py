"""CloudEvents-shaped envelope, versioned type names, JSON (de)serialisation and upcasting."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
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


def upcasts(type_name: str) -> bool:
    """True when records of ``type_name`` are read through an upcaster."""
    return type_name in _UPCASTERS


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
    return serialise_many([(payload, id, subject)], source=source, time=time, sequence=sequence)[0]


def serialise_many(
    events: Iterable[tuple[BaseModel, str, str | None]],
    *,
    source: str,
    time: datetime,
    sequence: int | None = None,
) -> list[bytes]:
    """:func:`serialise` for each ``(payload, id, subject)``, all with the same source and time.

    The head is spelt out with json's own string quoting, so the bytes are exactly those of
    ``json.dumps(head, ensure_ascii=False)`` without a dict and an encoder per record; what the
    records share is quoted once.
    """
    source_time = f', "source": {_quote(source)}, "time": {_quote(time.isoformat())}, "subject": '
    tail = (', "datacontenttype": "application/json", "sequence": '
            f'{"null" if sequence is None else _HEAD_JSON.encode(sequence)}, "data": ')
    types: dict[type[BaseModel], str] = {}
    out = []
    for payload, id_, subject in events:
        kind = type(payload)
        type_json = types.get(kind)
        if type_json is None:
            type_json = types[kind] = _quote(type_of(payload))
        head = "".join(('{"specversion": "' + SPEC_VERSION + '", "id": ', _quote(id_),
                        ', "type": ', type_json, source_time,
                        "null" if subject is None else _quote(subject), tail))
        # The serializer's bytes are model_dump_json()'s text, without a decode and re-encode.
        out.append(b"".join((head.encode(), kind.__pydantic_serializer__.to_json(payload), b"}")))
    return out


_quote: Callable[[str], str] = json.encoder.encode_basestring  # type: ignore[assignment]
_HEAD_JSON = json.JSONEncoder(ensure_ascii=False)


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
