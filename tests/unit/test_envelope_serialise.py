"""The producing side of the envelope: ``serialise`` spells out exactly the bytes of
``json.dumps(head) + data``, whatever the payload, subject and sequence."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import BaseModel

from events.catalog import INTERACTION_RECEIVED, CustomerRegistered
from events.envelope import decode, serialise, serialise_many, type_of
from events.interaction import Interaction

AT = datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=timezone(timedelta(hours=3)))
INTERACTION = Interaction.model_validate({
    "channel": "email", "external_id": "<1001@mail.example.ru>",
    "occurred_at": "2024-05-01T10:00:00+03:00", "direction": "inbound",
    "customer": {"email": "Ирина <Irina@Почта.РФ>", "name": "Ирина \"Ира\" Петрова"},
    "subject": "Жалоба\n", "body": "Здравствуйте!\t\\ Заказ не доставлен. \u2028",
    "details": {"message_id": "<1001@mail.example.ru>", "вложения": ["счёт.pdf"], "n": 1.5},
})
REGISTERED = CustomerRegistered(
    customer_id="0f1e2d3c-0000-5000-8000-000000000001",
    first_interaction_id="0f1e2d3c-0000-5000-8000-000000000002", at=AT,
)


def reference(payload: BaseModel, *, id: str, source: str, time: datetime,
              subject: str | None = None, sequence: int | None = None) -> bytes:
    """How serialise spelt its bytes before it was made fast."""
    head = {"specversion": "1.0", "id": id, "type": type_of(payload), "source": source,
            "time": time.isoformat(), "subject": subject, "datacontenttype": "application/json",
            "sequence": sequence}
    return b"".join((json.dumps(head, ensure_ascii=False)[:-1].encode(), b', "data": ',
                     payload.model_dump_json().encode(), b"}"))


@pytest.mark.parametrize("payload", [INTERACTION, REGISTERED], ids=["interaction", "registered"])
@pytest.mark.parametrize("subject", [None, "phone:+79123456789", 'email:"q"\\ё\x01\u2028'])
@pytest.mark.parametrize("sequence", [None, 0, 17, 2**70])
@pytest.mark.parametrize("time", [AT, datetime(2026, 1, 1, tzinfo=UTC)], ids=["msk", "utc"])
def test_serialise_gives_the_reference_bytes(
    payload: BaseModel, subject: str | None, sequence: int | None, time: datetime
) -> None:
    kwargs = {"id": "9a5f240d-04ff-5e34-a9cc-fa3460f918bc", "source": "kartoteka/ingest",
              "time": time, "subject": subject, "sequence": sequence}
    assert serialise(payload, **kwargs) == reference(payload, **kwargs)  # type: ignore[arg-type]


def test_serialise_many_is_serialise_for_each_event_in_order() -> None:
    events = [(INTERACTION, "id-1", "email:irina@почта.рф"), (REGISTERED, "id-2", None),
              (INTERACTION, "id-\"3", "x")]
    many = serialise_many(events, source="src", time=AT)
    assert many == [serialise(p, id=i, source="src", time=AT, subject=s) for p, i, s in events]
    assert serialise_many([], source="src", time=AT) == []


def test_serialised_bytes_decode_to_the_same_event() -> None:
    raw = serialise(INTERACTION, id="id-1", source="kartoteka/ingest", time=AT, subject="k")
    envelope, payload = decode(raw)
    assert envelope.type == INTERACTION_RECEIVED and envelope.subject == "k"
    assert envelope.time == AT and payload == INTERACTION


def test_text_that_is_not_unicode_cannot_be_serialised() -> None:
    with pytest.raises(UnicodeEncodeError):
        serialise(REGISTERED, id="id", source="src", time=AT, subject="\ud800")
