"""The CloudEvents envelope: wrap, encode, decode and decode errors (upcasting: test_envelope_upcasting.py)."""

from __future__ import annotations

import importlib
import json
import pkgutil
from datetime import UTC, datetime, timedelta, timezone
from enum import Enum
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

import pytest
from pydantic import BaseModel, ValidationError

import events
from events import envelope as envelope_module
from events.catalog import (
    INTERACTION_RECEIVED,
    AccessRecorded,
    CustomerRegistered,
    IdentifierLinked,
    InteractionAttributed,
)
from events.duplicates import DuplicateRejected, MergeRequested, proposal_id
from events.envelope import (
    Envelope,
    EventDecodeError,
    decode,
    encode,
    type_of,
    wrap,
)
from events.interaction import Interaction

MSK = timezone(timedelta(hours=3))
AT = datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=MSK)
CUSTOMER = "0f1e2d3c-0000-5000-8000-000000000001"
INTERACTION_ID = "0f1e2d3c-0000-5000-8000-000000000002"
OTHER = "0f1e2d3c-0000-5000-8000-000000000003"

INTERACTION = Interaction.model_validate(
    {
        "channel": "email",
        "external_id": "<1001@mail.example.ru>",
        "occurred_at": "2024-05-01T10:00:00+03:00",
        "direction": "inbound",
        "customer": {"email": "Ирина <Irina@Почта.РФ>", "name": "Ирина Петрова"},
        "subject": "Жалоба",
        "body": "Здравствуйте! Заказ не доставлен.",
        "details": {"message_id": "<1001@mail.example.ru>", "вложения": ["счёт.pdf"]},
    }
)

SAMPLES: dict[str, BaseModel] = {
    INTERACTION_RECEIVED: INTERACTION,
    "kartoteka.identity.merge_requested.v1": MergeRequested(
        command_id="cmd-1", proposal_id=proposal_id(CUSTOMER, INTERACTION_ID), customer_ids=[CUSTOMER, INTERACTION_ID],
        requested_by="sup-1", score=0.97, at=AT),
    "kartoteka.identity.duplicate_rejected.v1": DuplicateRejected(
        command_id="cmd-2", proposal_id=proposal_id(CUSTOMER, INTERACTION_ID), customer_ids=[CUSTOMER, INTERACTION_ID],
        requested_by="sup-1", reason="two people", at=AT),
    "kartoteka.customer.registered.v1": CustomerRegistered(
        customer_id=CUSTOMER, first_interaction_id=INTERACTION_ID, at=AT
    ),
    "kartoteka.customer.identifier_linked.v1": IdentifierLinked(
        customer_id=CUSTOMER,
        kind="phone",
        value="12345",
        valid=False,
        interaction_id=INTERACTION_ID,
        channel="call",
        at=AT,
    ),
    "kartoteka.customer.interaction_attributed.v1": InteractionAttributed(
        customer_id=CUSTOMER, interaction_id=INTERACTION_ID, interaction=INTERACTION
    ),
    "kartoteka.access.recorded.v1": AccessRecorded(
        employee_id="emp-42",
        role="agent",
        action="customer.timeline",
        customer_ids=[CUSTOMER],
        at=AT,
        request_id="req-1",
        client="10.0.0.7",
        route="/v1/customers/{id}/timeline",
        query="Петрова",
    ),
}

# Import every module of the contract so that every type it registers is known here.
for _module in pkgutil.iter_modules(events.__path__):
    importlib.import_module(f"events.{_module.name}")
CONTRACT_TYPES = sorted(
    name
    for name, model in envelope_module._MODELS.items()
    if model.__module__.startswith("events.")
)


def value_for(name: str, annotation: Any) -> Any:
    """A plausible value for a field, from its annotation (generated samples for newer types)."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return value_for(name, args[0])
    if origin in (Union, UnionType):
        return value_for(name, next(a for a in args if a is not type(None)))
    if origin is Literal:
        return args[0]
    if origin is list:
        return [value_for(name.removesuffix("s"), args[0])]
    if origin is tuple:
        items = args[:1] if len(args) == 2 and args[1] is Ellipsis else args
        return tuple(value_for(name, a) for a in items)
    if origin is dict:
        return {"ключ": "значение"}
    if isinstance(annotation, type) and issubclass(annotation, Interaction):
        return INTERACTION
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return sample_of(annotation)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return next(iter(annotation))
    simple = {datetime: AT, bool: True, int: 1, float: 0.5}
    if annotation in simple:
        return simple[annotation]
    return "phone:+79123456789" if name.endswith("key") else f"{name}-Ирина"


def sample_of(model: type[BaseModel]) -> BaseModel:
    """A payload with every field filled, optional ones included, so all of it round-trips."""
    hints = get_type_hints(model, include_extras=True)
    data = {name: value_for(name, hints[name]) for name in model.model_fields}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        # An optional field the generator cannot fill keeps its default; required ones must fit.
        rejected = {str(err["loc"][0]) for err in exc.errors() if err["loc"]}
        optional = {n for n in rejected if not model.model_fields[n].is_required()}
        return model.model_validate({n: v for n, v in data.items() if n not in optional})


def sample_for(type_name: str) -> BaseModel:
    return SAMPLES.get(type_name) or sample_of(envelope_module._MODELS[type_name])


def envelope_of(payload: BaseModel, **overrides: Any) -> Envelope:
    attrs: dict[str, Any] = {
        "id": "evt-1",
        "source": "kartoteka/test",
        "time": AT,
        "subject": CUSTOMER,
        "sequence": 7,
    }
    attrs.update(overrides)
    return wrap(payload, **attrs)


def raw_record(**overrides: Any) -> dict[str, Any]:
    record = json.loads(encode(envelope_of(SAMPLES["kartoteka.customer.registered.v1"])))
    record.update(overrides)
    return record


def test_the_contract_registers_at_least_the_spine_types() -> None:
    assert set(SAMPLES) <= set(CONTRACT_TYPES)


@pytest.mark.parametrize("type_name", CONTRACT_TYPES)
def test_every_registered_type_survives_wrap_encode_decode(type_name: str) -> None:
    payload = sample_for(type_name)
    wrapped = envelope_of(payload)
    decoded_envelope, decoded_payload = decode(encode(wrapped))
    assert type_of(payload) == type_name == decoded_envelope.type
    assert type(decoded_payload) is type(payload)
    assert decoded_payload == payload
    assert decoded_envelope == wrapped


def test_wrap_fills_the_cloudevents_attributes() -> None:
    wrapped = envelope_of(SAMPLES["kartoteka.customer.registered.v1"], sequence=None)
    assert (wrapped.specversion, wrapped.datacontenttype) == ("1.0", "application/json")
    assert wrapped.type == "kartoteka.customer.registered.v1"
    assert wrapped.sequence is None
    assert wrapped.data == {
        "customer_id": CUSTOMER,
        "first_interaction_id": INTERACTION_ID,
        "at": "2024-05-01T10:00:00.123456+03:00",
    }


def test_cyrillic_and_offsets_survive_the_encoding() -> None:
    raw = encode(envelope_of(INTERACTION))
    assert "Ирина Петрова".encode() in raw
    decoded_envelope, payload = decode(raw)
    assert isinstance(payload, Interaction)
    assert payload.customer.name == "Ирина Петрова"
    assert payload.occurred_at.utcoffset() == timedelta(hours=3)
    assert decoded_envelope.time.utcoffset() == timedelta(hours=3)
    assert payload.primary_identifier().value == "irina@почта.рф"


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        pytest.param(None, "no value", id="none"),
        pytest.param(b"", "not a valid envelope", id="empty"),
        pytest.param(b"not json", "not a valid envelope", id="not-json"),
        pytest.param(b"\xff\xfe\x00garbage", "not a valid envelope", id="not-utf8"),
        pytest.param(b"[1, 2]", "not a valid envelope", id="json-array"),
        pytest.param(b'"text"', "not a valid envelope", id="json-string"),
    ],
)
def test_bytes_that_are_not_an_envelope_fail_to_decode(raw: bytes | None, why: str) -> None:
    with pytest.raises(EventDecodeError, match=why):
        decode(raw)


@pytest.mark.parametrize("attribute", ["id", "type", "source", "time", "data"])
def test_an_envelope_missing_a_required_attribute_fails_to_decode(attribute: str) -> None:
    record = raw_record()
    del record[attribute]
    with pytest.raises(EventDecodeError, match="not a valid envelope"):
        decode(json.dumps(record).encode())


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"specversion": "0.3"}, id="old-specversion"),
        pytest.param({"datacontenttype": "text/xml"}, id="xml"),
        pytest.param({"time": "yesterday"}, id="bad-time"),
        pytest.param({"data": "not an object"}, id="data-not-object"),
        pytest.param({"traceparent": "00-abc"}, id="unknown-attribute"),
    ],
)
def test_an_envelope_with_a_bad_attribute_fails_to_decode(overrides: dict[str, Any]) -> None:
    with pytest.raises(EventDecodeError, match="not a valid envelope"):
        decode(json.dumps(raw_record(**overrides)).encode())


def test_an_unknown_type_fails_to_decode_and_names_the_type() -> None:
    record = raw_record(type="kartoteka.customer.teleported.v1")
    with pytest.raises(
        EventDecodeError, match="unknown event type 'kartoteka.customer.teleported.v1'"
    ):
        decode(json.dumps(record).encode())


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({}, id="empty"),
        pytest.param(
            {"customer_id": CUSTOMER, "first_interaction_id": INTERACTION_ID}, id="missing-at"
        ),
        pytest.param(
            {"customer_id": CUSTOMER, "first_interaction_id": INTERACTION_ID, "at": "not a time"},
            id="bad-at",
        ),
        pytest.param(
            {
                "customer_id": CUSTOMER,
                "first_interaction_id": INTERACTION_ID,
                "at": AT.isoformat(),
                "x": 1,
            },
            id="extra-field",
        ),
    ],
)
def test_a_payload_that_does_not_fit_its_type_fails_to_decode(data: dict[str, Any]) -> None:
    with pytest.raises(EventDecodeError, match="invalid kartoteka.customer.registered.v1 payload"):
        decode(json.dumps(raw_record(data=data)).encode())


def test_an_interaction_payload_breaking_the_contract_fails_to_decode() -> None:
    record = json.loads(encode(envelope_of(INTERACTION)))
    record["data"]["occurred_at"] = "2024-05-01T10:00:00"
    with pytest.raises(EventDecodeError, match="occurred_at"):
        decode(json.dumps(record).encode())


def test_decoding_keeps_a_utc_time_as_utc() -> None:
    wrapped = envelope_of(
        SAMPLES["kartoteka.customer.registered.v1"], time=datetime(2024, 5, 1, tzinfo=UTC)
    )
    decoded_envelope, _ = decode(encode(wrapped))
    assert decoded_envelope.time == datetime(2024, 5, 1, tzinfo=UTC)
    assert decoded_envelope.time.utcoffset() == timedelta(0)
