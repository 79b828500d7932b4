"""The timeline's own decoding (digest) accepts only what the contract's decode accepts, with the same rows."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from events.catalog import CustomerRegistered, IdentifierLinked, InteractionAttributed
from events.envelope import EventDecodeError, decode, serialise
from events.identity import CustomerMerged
from events.interaction import Interaction
from services.projections.records import Decoded
from services.projections.timeline.apply import rows_for, rows_of
from services.projections.timeline.direct_decode import digest

AT = datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=timezone(timedelta(hours=3)))
CUSTOMER = str(uuid.uuid4())


def _interaction(**overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "channel": "email",
        "external_id": "<1001@mail.example.ru>",
        "occurred_at": "2024-05-01T10:00:00+03:00",
        "direction": "inbound",
        "customer": {"phone": "8 912 345-67-89", "email": "Ирина <Irina@Почта.РФ>",
                     "name": "Ирина Петрова"},
        "agent_id": "emp-42",
        "subject": "Жалоба",
        "body": "Здравствуйте! Заказ не доставлен.",
        "details": {"message_id": "<1001@mail.example.ru>", "вложения": ["счёт.pdf"],
                    "nested": {"a": [1, 2.5, None, True]}},
    }
    raw.update(overrides)
    return raw


def _record(payload: Any, sequence: int | None = 7, time: datetime = AT) -> bytes:
    return serialise(payload, id=str(uuid.uuid4()), source="kartoteka/identity", time=time,
                     subject=CUSTOMER, sequence=sequence)


def _attributed(sequence: int | None = 7, **overrides: Any) -> bytes:
    return _record(InteractionAttributed(
        customer_id=CUSTOMER, interaction_id=str(uuid.uuid4()),
        interaction=Interaction.model_validate(_interaction(**overrides))), sequence)


GOOD = {
    "registered": _record(CustomerRegistered(customer_id=CUSTOMER, first_interaction_id="i-1", at=AT)),
    "linked": _record(IdentifierLinked(customer_id=CUSTOMER, kind="phone", value="79123456789",
                                       interaction_id="i-1", channel="call", at=AT)),
    "linked, not valid": _record(IdentifierLinked(customer_id=CUSTOMER, kind="phone", value="12",
                                                  valid=False, interaction_id="i-1", channel="sms",
                                                  at=AT)),
    "attributed": _attributed(),
    "attributed, no sequence": _attributed(sequence=None),
    "attributed, far offset": _attributed(occurred_at="2024-05-01T10:00:00.5+21:07"),
    "attributed, handle only": _attributed(customer={"handle": "tg:@Irina"}),
    "attributed, invalid phone kept raw": _attributed(customer={"phone": "12-34", "name": ""}),
    "attributed, no optional text": _attributed(agent_id=None, subject=None, body=None, details={}),
    "attributed, year 9998": _attributed(occurred_at="9998-12-31T23:00:00Z"),
}


def _rows(raw: bytes) -> Any:
    return rows_for([decode(raw)])


def _digested_rows(raw: bytes) -> Any:
    found = digest(raw)
    assert found is not None
    return rows_of([Decoded(0, 0, None, digest=found, raw=raw)])


@pytest.mark.parametrize("kind", list(GOOD))
def test_the_common_events_are_digested_into_the_rows_the_full_decode_gives(kind: str) -> None:
    assert _digested_rows(GOOD[kind]) == _rows(GOOD[kind])


def test_a_batch_mixing_digested_and_decoded_events_keeps_log_order() -> None:
    merged = _record(CustomerMerged(survivor_id=CUSTOMER, merged_id=str(uuid.uuid4()),
                                    interaction_id="i-1", keys=["phone:+79123456789"], at=AT))
    values = [GOOD["registered"], merged, GOOD["attributed"], GOOD["linked"]]
    assert digest(merged) is None, "the rare events take the full decode"
    items = [Decoded(0, n, None, *decode(v)) if (d := digest(v)) is None
             else Decoded(0, n, None, digest=d, raw=v) for n, v in enumerate(values)]
    assert rows_of(items) == rows_for([decode(v) for v in values])


def test_a_digested_record_still_answers_with_its_envelope_and_payload() -> None:
    raw = GOOD["attributed"]
    item = Decoded(1, 5, b"k", digest=digest(raw), raw=raw, topic="t")
    envelope, payload = decode(raw)
    assert item.envelope == envelope and item.payload == payload


def _mutate(raw: bytes, path: tuple[str, ...], value: Any) -> bytes:
    doc = json.loads(raw)
    node = doc
    for key in path[:-1]:
        node = node[key]
    if value is _DROP:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value
    return json.dumps(doc, ensure_ascii=False).encode()


class _Drop:
    """The field left out; its repr names the case the same in every process (xdist workers
    must collect the same test ids)."""

    def __repr__(self) -> str:
        return "<dropped>"


_DROP = _Drop()
VALUES: list[Any] = [
    _DROP, None, "", " ", "  padded ", 0, 1, 1.5, True, [], {}, "x" * 400, "nul\x00", "pigeon",
    "2024-05-01T10:00:00", "2024-05-01t10:00:00Z", "2024-05-01T10:00:00.123456789Z",
    "2024-02-30T10:00:00Z", "2024-05-01T10:00:00+24:00", "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+01:00", "٢٠٢٤-05-01T10:00:00Z", 2**70, "phone", "outbound", "call",
]
PATHS = [
    ("specversion",), ("id",), ("type",), ("source",), ("time",), ("subject",),
    ("datacontenttype",), ("sequence",), ("data",), ("extra",),
    ("data", "customer_id"), ("data", "interaction_id"), ("data", "extra"),
    *[("data", "interaction", f) for f in ("channel", "external_id", "occurred_at", "direction",
                                           "customer", "agent_id", "subject", "body", "details",
                                           "extra")],
    *[("data", "interaction", "customer", f) for f in ("phone", "email", "name", "handle", "extra")],
    ("data", "interaction", "details", "deep"),
]
LINK_PATHS = [("data", f) for f in ("customer_id", "kind", "value", "valid", "interaction_id",
                                    "channel", "at", "extra")]
REGISTERED_PATHS = [("data", f) for f in ("customer_id", "first_interaction_id", "at", "extra")]


def _cases() -> list[tuple[str, bytes]]:
    cases = []
    for base, paths in ((GOOD["attributed"], PATHS), (GOOD["linked"], LINK_PATHS),
                        (GOOD["registered"], REGISTERED_PATHS)):
        for path in paths:
            for value in VALUES:
                cases.append((f"{'.'.join(path)}={value!r:.30}", _mutate(base, path, value)))
    deep: Any = "bottom"
    for _ in range(9):
        deep = {"d": deep}
    cases += [
        ("details too deep", _mutate(GOOD["attributed"], ("data", "interaction", "details"), deep)),
        ("details too large", _mutate(GOOD["attributed"], ("data", "interaction", "details"),
                                      {"x": "я" * 40_000})),
        ("nul in details", _mutate(GOOD["attributed"], ("data", "interaction", "details"),
                                   {"k\x00": 1})),
        ("body too long", _mutate(GOOD["attributed"], ("data", "interaction", "body"), "б" * 100_001)),
        ("no usable identifier", _mutate(GOOD["attributed"], ("data", "interaction", "customer"),
                                         {"email": "not an address", "name": "Ирина"})),
        ("not json", b"\xff{not json"),
        ("not an object", b"[1, 2]"),
        ("no value", None),  # type: ignore[list-item]
        ("unknown type", _mutate(GOOD["registered"], ("type",), "kartoteka.telepathy.v9")),
    ]
    return cases


@pytest.mark.parametrize(("name", "raw"), _cases(), ids=lambda x: x if isinstance(x, str) else "")
def test_a_digest_accepts_only_what_the_full_decode_accepts_with_the_same_rows(
    name: str, raw: bytes
) -> None:
    try:
        expected = _rows(raw)
    except (EventDecodeError, OverflowError):  # refused, or refused later by the apply (far times)
        assert digest(raw) is None, f"{name}: the full path refuses it, so must the digest"
        return
    if digest(raw) is not None:
        assert _digested_rows(raw) == expected, name


def test_the_relay_batch_time_cache_does_not_let_another_time_through() -> None:
    good = GOOD["attributed"]
    assert digest(good) is not None
    assert digest(_mutate(good, ("time",), "2024-05-01T10:00:00")) is None  # naive: full decode
    assert digest(_mutate(good, ("time",), "not a time")) is None
    later = _record(CustomerRegistered(customer_id=CUSTOMER, first_interaction_id="i-1",
                                       at=AT + timedelta(days=1)), time=datetime.now(UTC))
    assert _digested_rows(later) == _rows(later)


def test_records_the_relay_writes_are_all_digested() -> None:
    """Guards the speed: the common events in the contract's own spelling take the digest."""
    assert all(digest(raw) is not None for raw in GOOD.values())
