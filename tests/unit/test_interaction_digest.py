"""The resolver's one-pass decoding accepts only interaction records the contract's decode
accepts, and builds the same models from them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bench.payloads import item
from events.catalog import CustomerRegistered
from events.envelope import EventDecodeError, decode, serialise
from services.ingest.accept import Accepted, accept
from services.projections.identity.interaction_digest import digest
from tests.support.ids import SECRET


def _record(n: int = 1, **overrides: Any) -> bytes:
    raw = dict(item("digest", n, 50))
    raw.update(overrides)
    accepted = accept(raw, SECRET)
    assert isinstance(accepted, Accepted), accepted
    return accepted.record(datetime.now(UTC))


def _mutated(change: Any) -> bytes:
    doc = json.loads(_record())
    change(doc)
    return json.dumps(doc, ensure_ascii=False).encode()


GOOD = {
    "bench item": _record(),
    "another bench item": _record(7),
    "name and details": _record(3, customer={"phone": "+7 912 345-67-89", "name": "Ирина"},
                                details={"birth_date": "1980-01-02", "nested": [1, 2.5, None]}),
}
BROKEN = {
    "not json": b"{not json",
    "no data": _mutated(lambda d: d.pop("data")),
    "extra envelope field": _mutated(lambda d: d.update(extra=1)),
    "no identifier": _mutated(lambda d: d["data"].update(customer={"name": "Ирина"})),
    "time without offset": _mutated(lambda d: d["data"].update(occurred_at="2024-05-01T10:00:00")),
    "unknown channel": _mutated(lambda d: d["data"].update(channel="fax")),
    "extra payload field": _mutated(lambda d: d["data"].update(colour="red")),
    "number as text": _mutated(lambda d: d["data"].update(external_id=12)),
}


@pytest.mark.parametrize("kind", list(GOOD))
def test_interactions_decode_to_the_contracts_models(kind: str) -> None:
    envelope, payload = decode(GOOD[kind])
    found = digest(GOOD[kind])
    assert found is not None
    assert found.data == payload
    assert found.model_dump(exclude={"data"}) == envelope.model_dump(exclude={"data"})


@pytest.mark.parametrize("kind", list(BROKEN))
def test_what_the_contract_refuses_is_left_to_it(kind: str) -> None:
    with pytest.raises(EventDecodeError):
        decode(BROKEN[kind])
    assert digest(BROKEN[kind]) is None


def test_other_event_types_are_left_to_the_full_decode() -> None:
    record = serialise(CustomerRegistered(customer_id="c-1", first_interaction_id="i-1", at=datetime.now(UTC)),
                       id="e-1", source="test", time=datetime.now(UTC))
    assert digest(record) is None
    assert digest(None) is None
