"""Upcasting: an old event type is carried through its chain of upcasters to a registered one."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from events import envelope as envelope_module
from events.catalog import CustomerRegistered
from events.envelope import EventDecodeError, decode, encode, register_upcaster, wrap

AT = datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=timezone(timedelta(hours=3)))
CUSTOMER = "0f1e2d3c-0000-5000-8000-000000000001"
INTERACTION_ID = "0f1e2d3c-0000-5000-8000-000000000002"


def raw_record(**overrides: Any) -> dict[str, Any]:
    """A registered event's record as JSON, with some of its attributes replaced."""
    registered = CustomerRegistered(customer_id=CUSTOMER, first_interaction_id=INTERACTION_ID, at=AT)
    record = json.loads(encode(wrap(registered, id="evt-1", source="kartoteka/test", time=AT,
                                    subject=CUSTOMER, sequence=7)))
    record.update(overrides)
    return record


@pytest.fixture
def upcasters(monkeypatch: pytest.MonkeyPatch) -> None:
    """Throwaway upcasters for this test only; the real registry is restored afterwards."""
    monkeypatch.setattr(envelope_module, "_UPCASTERS", dict(envelope_module._UPCASTERS))


def _v0_to_v0_5(data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return "kartoteka.test.customer_created.v0_5", {
        "customer_id": data["customer"],
        "first_interaction_id": data["via"],
        "when": data["when"],
    }


def _v0_5_to_registered(data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    renamed = {k: v for k, v in data.items() if k != "when"}
    return "kartoteka.customer.registered.v1", {**renamed, "at": data["when"]}


def test_an_old_type_is_upcast_through_the_whole_chain(upcasters: None) -> None:
    register_upcaster("kartoteka.test.customer_created.v0", _v0_to_v0_5)
    register_upcaster("kartoteka.test.customer_created.v0_5", _v0_5_to_registered)
    old = raw_record(
        type="kartoteka.test.customer_created.v0",
        data={"customer": CUSTOMER, "via": INTERACTION_ID, "when": AT.isoformat()},
    )
    decoded_envelope, payload = decode(json.dumps(old).encode())
    assert payload == CustomerRegistered(
        customer_id=CUSTOMER, first_interaction_id=INTERACTION_ID, at=AT
    )
    assert decoded_envelope.type == "kartoteka.test.customer_created.v0"


def test_an_upcast_payload_is_still_validated(upcasters: None) -> None:
    register_upcaster("kartoteka.test.customer_created.v0", _v0_to_v0_5)
    register_upcaster("kartoteka.test.customer_created.v0_5", _v0_5_to_registered)
    old = raw_record(
        type="kartoteka.test.customer_created.v0",
        data={"customer": CUSTOMER, "via": INTERACTION_ID, "when": "not a time"},
    )
    with pytest.raises(EventDecodeError, match="invalid kartoteka.customer.registered.v1 payload"):
        decode(json.dumps(old).encode())


def test_an_upcaster_to_a_type_nobody_registered_is_an_unknown_type(upcasters: None) -> None:
    register_upcaster("kartoteka.test.customer_created.v0", _v0_to_v0_5)
    old = raw_record(
        type="kartoteka.test.customer_created.v0",
        data={"customer": CUSTOMER, "via": INTERACTION_ID, "when": AT.isoformat()},
    )
    with pytest.raises(EventDecodeError, match="unknown event type"):
        decode(json.dumps(old).encode())


def test_the_throwaway_upcasters_do_not_outlive_their_test() -> None:
    assert "kartoteka.test.customer_created.v0" not in envelope_module._UPCASTERS
