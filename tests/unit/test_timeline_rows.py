"""The pure timeline apply: customer events become card and timeline rows."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import BaseModel

from events.catalog import (
    AccessRecorded,
    CustomerRegistered,
    IdentifierLinked,
    InteractionAttributed,
)
from events.envelope import Envelope, wrap
from events.identity import CustomerSplit, IdentifierUnlinked, InteractionReattributed
from events.interaction import Interaction
from services.projections.timeline.apply import Rows, rows_for
from services.projections.timeline.store import REATTRIBUTE, SPLIT_MEMBERS, UNLINK, plan

MSK = timezone(timedelta(hours=3))
AT = datetime(2024, 5, 1, 10, 0, tzinfo=MSK)
LATER = AT + timedelta(hours=2)
CUSTOMER = "customer-irina"
DETAILS = 10  # column of the details JSON in a timeline row


def interaction(**overrides: Any) -> Interaction:
    raw: dict[str, Any] = {
        "channel": "call",
        "external_id": "cdr-1001",
        "occurred_at": LATER.isoformat(),
        "direction": "inbound",
        "customer": {
            "phone": "8 912 345-67-89",
            "email": "Irina@Example.RU",
            "name": "Ирина Петрова",
        },
        "agent_id": "emp-42",
        "subject": "Доставка",
        "body": "Где мой заказ?",
        "details": {"duration_s": 95, "итог": "решено"},
    }
    raw.update(overrides)
    return Interaction.model_validate(raw)


def event(payload: BaseModel, sequence: int | None = 1) -> tuple[Envelope, BaseModel]:
    envelope = wrap(
        payload, id=str(uuid.uuid4()), source="test", time=AT, subject=CUSTOMER, sequence=sequence
    )
    return envelope, payload


def attributed(sequence: int | None = 3, **overrides: Any) -> tuple[Envelope, BaseModel]:
    payload = InteractionAttributed(
        customer_id=CUSTOMER, interaction_id="iid-1", interaction=interaction(**overrides)
    )
    return event(payload, sequence)


def test_no_events_give_no_rows() -> None:
    assert rows_for([]) == Rows()


def test_a_registered_customer_gives_one_customer_row() -> None:
    rows = rows_for(
        [event(CustomerRegistered(customer_id=CUSTOMER, first_interaction_id="iid-1", at=AT))]
    )
    assert rows == Rows(customers=[(CUSTOMER, AT)])


def test_a_linked_identifier_gives_one_identifier_row_first_and_last_seen_at_its_time() -> None:
    linked = IdentifierLinked(
        customer_id=CUSTOMER,
        kind="phone",
        value="12345",
        valid=False,
        interaction_id="iid-1",
        channel="sms",
        at=AT,
    )
    assert rows_for([event(linked)]) == Rows(
        identifiers=[(CUSTOMER, "phone", "12345", False, "sms", AT, AT)]
    )


def test_an_attributed_interaction_gives_a_timeline_row_with_everything_an_agent_reads() -> None:
    rows = rows_for([attributed(sequence=3)])
    assert len(rows.timeline) == 1
    # The leading columns are the row the agent reads; later columns are extras of the store.
    assert rows.timeline[0][:11] == (
        "iid-1",
        CUSTOMER,
        3,
        "cdr-1001",
        "call",
        "inbound",
        LATER,
        "emp-42",
        "Доставка",
        "Где мой заказ?",
        json.dumps({"duration_s": 95, "итог": "решено"}, ensure_ascii=False),
    )
    assert rows.customers == [(CUSTOMER, LATER)]
    assert rows.identifiers == []


def test_timeline_details_keep_cyrillic_readable() -> None:
    details = rows_for([attributed()]).timeline[0][DETAILS]
    assert isinstance(details, str) and "решено" in details
    assert json.loads(details) == {"duration_s": 95, "итог": "решено"}


def test_an_envelope_without_a_sequence_gives_sequence_zero() -> None:
    assert rows_for([attributed(sequence=None)]).timeline[0][2] == 0


def test_an_attribution_marks_every_identifier_of_the_interaction_as_seen() -> None:
    rows = rows_for(
        [attributed(customer={"phone": "+7 912 345 67 89", "email": "A@B.ru", "handle": "tg:@Ira"})]
    )
    assert rows.seen == [
        (LATER, CUSTOMER, "phone", "+79123456789"),
        (LATER, CUSTOMER, "email", "a@b.ru"),
        (LATER, CUSTOMER, "handle", "tg:ira"),
    ]


def test_a_given_name_gives_a_name_row() -> None:
    assert rows_for([attributed()]).names == [("Ирина Петрова", LATER, CUSTOMER)]


def test_no_name_gives_no_name_row() -> None:
    rows = rows_for([attributed(customer={"phone": "+79123456789"})])
    assert rows.names == []
    assert len(rows.timeline) == 1


def test_optional_text_left_out_is_null_in_the_timeline_row() -> None:
    row = rows_for([attributed(agent_id=None, subject=None, body=None, details={})]).timeline[0]
    assert row[7 : DETAILS + 1] == (None, None, None, "{}")


def test_a_batch_keeps_log_order_and_ignores_events_the_timeline_does_not_show() -> None:
    access = AccessRecorded(
        employee_id="emp-42",
        role="agent",
        action="customer.card",
        at=AT,
        request_id="r",
        route="/x",
    )
    batch = [
        event(CustomerRegistered(customer_id=CUSTOMER, first_interaction_id="iid-1", at=AT)),
        event(access),
        attributed(sequence=2, external_id="cdr-1"),
        attributed(sequence=3, external_id="cdr-2"),
    ]
    rows = rows_for(batch)
    assert rows.customers == [(CUSTOMER, AT), (CUSTOMER, LATER), (CUSTOMER, LATER)]
    assert [(r[2], r[3]) for r in rows.timeline] == [(2, "cdr-1"), (3, "cdr-2")]
    assert len(rows.seen) == 4 and len(rows.names) == 2


def test_a_batch_plans_one_customer_row_with_its_earliest_time_and_latest_name() -> None:
    later = LATER + timedelta(hours=1)
    work = plan(rows_for([
        attributed(occurred_at=later.isoformat(), customer={"phone": "+79123456789", "name": "Б"}),
        event(CustomerRegistered(customer_id=CUSTOMER, first_interaction_id="iid-1", at=AT)),
        attributed(occurred_at=LATER.isoformat(), customer={"phone": "+79123456789", "name": "А"}),
    ]))
    assert work.customers == [(CUSTOMER, AT, "Б", "b", later)]


def test_of_names_at_the_same_time_the_plan_keeps_the_later_event() -> None:
    work = plan(rows_for([
        attributed(customer={"phone": "+79123456789", "name": "Анна"}),
        attributed(customer={"phone": "+79123456789", "name": "Мария"}),
    ]))
    assert [c[2] for c in work.customers] == ["Мария"]


def test_a_sighting_in_the_batch_of_its_link_widens_the_link_and_others_only_update() -> None:
    linked = IdentifierLinked(customer_id=CUSTOMER, kind="phone", value="+79123456789",
                              interaction_id="iid-1", channel="sms", at=AT)
    work = plan(rows_for([
        event(linked),
        attributed(customer={"phone": "+79123456789", "email": "a@b.ru"}),
        event(linked.model_copy(update={"channel": "call", "at": AT - timedelta(hours=1)})),
    ]))
    assert work.identifiers == [
        (CUSTOMER, "email", "a@b.ru", None, None, None, LATER),
        (CUSTOMER, "phone", "+79123456789", True, "sms", AT - timedelta(hours=1), LATER),
    ]


def test_a_plan_without_rare_events_has_no_rare_statements() -> None:
    assert plan(rows_for([attributed()])).rare == []
    assert plan(Rows()).statements() == [] and plan(Rows()).copies() == []


def test_timeline_details_are_the_bytes_json_dumps_would_write() -> None:
    details = {"итог": "решено", "n": [1, 2.5, None, True, {"q": "\n\"\\\u2028\x01"}], "big": 1e300}
    row = rows_for([attributed(details=details)]).timeline[0]
    assert row[DETAILS] == json.dumps(details, ensure_ascii=False)


def test_a_split_takes_its_emptied_members_along_after_its_unlinks_and_before_its_interactions() -> None:
    events = [
        event(IdentifierUnlinked(customer_id=CUSTOMER, key="email:b@mail.ru", command_id="cmd", at=AT)),
        event(CustomerSplit(source_id=CUSTOMER, target_id="customer-new", keys=["email:b@mail.ru"],
                            interaction_ids=["iid-2"], command_id="cmd", requested_by="sup-1", at=AT)),
        event(InteractionReattributed(interaction_id="iid-2", from_customer_id=CUSTOMER, customer_id="customer-new",
                                      command_id="cmd", original_customer_id=CUSTOMER)),
    ]
    rows = rows_for(events)
    assert rows.splits == [(CUSTOMER, "customer-new")]
    rare = [statement for statement, _ in plan(rows).rare]
    assert rare.index(UNLINK) < rare.index(SPLIT_MEMBERS) < rare.index(REATTRIBUTE)
    assert dict(plan(rows).rare)[SPLIT_MEMBERS] == [{"source": CUSTOMER, "target": "customer-new"}]
