"""The card + timeline store on the real PostgreSQL: set-based batches, idempotent, positions kept."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.postgres import PostgresDatastore
from pydantic import BaseModel

from events.catalog import CustomerRegistered, IdentifierLinked, InteractionAttributed
from events.envelope import Envelope, wrap
from events.interaction import Interaction
from events.names import latin
from kartoteka import db
from services.projections.timeline.apply import rows_for
from services.projections.timeline.store import TimelineStore
from services.projections.tracking import Positions

pytestmark = pytest.mark.integration
T0 = datetime(2026, 5, 1, 10, tzinfo=UTC)
POSITION = "timeline:test:topic-id:0"


@pytest.fixture
def datastore(settings) -> Iterator[PostgresDatastore]:
    store = db.datastore(settings.dsn, pool_size=1)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def store(datastore) -> TimelineStore:
    return TimelineStore(datastore, Positions(datastore))


def _event(payload: BaseModel, sequence: int = 1) -> tuple[Envelope, BaseModel]:
    return wrap(payload, id=str(uuid.uuid4()), source="test", time=T0, sequence=sequence), payload


def _attributed(cid: str, at: datetime, name: str | None = "Ирина Петрова", phone: str = "+79123456789",
                body: str = "Где мой заказ?") -> tuple[Envelope, BaseModel]:
    iid = str(uuid.uuid4())
    interaction = Interaction.model_validate({
        "channel": "call", "external_id": iid, "occurred_at": at.isoformat(), "direction": "inbound",
        "customer": {"phone": phone, "name": name}, "body": "...", "details": {"итог": "решено"}})
    # Not validated: the store must also cope with what the contract would have refused.
    interaction = interaction.model_copy(update={"body": body})
    return _event(InteractionAttributed(customer_id=cid, interaction_id=iid, interaction=interaction))


def _linked(cid: str, at: datetime, value: str = "+79123456789") -> tuple[Envelope, BaseModel]:
    return _event(IdentifierLinked(customer_id=cid, kind="phone", value=value, interaction_id="i",
                                   channel="call", at=at))


def _rows(dsn: str) -> dict[str, list[tuple[Any, ...]]]:
    queries = {
        "customers": "SELECT id::text, name, name_at, registered_at, search_latin FROM customers ORDER BY 1",
        "identifiers": "SELECT customer_id::text, kind, value, valid, channel, first_seen, last_seen"
                       " FROM customer_identifiers ORDER BY 1, 2, 3",
        "timeline": "SELECT interaction_id::text, customer_id::text, body, details FROM timeline ORDER BY 1",
        "tracking": "SELECT application_name, notification_id FROM tracking"
                    " WHERE application_name LIKE 'timeline:%' ORDER BY 1",
    }
    with psycopg.connect(dsn) as conn:
        return {name: conn.execute(sql).fetchall() for name, sql in queries.items()}  # type: ignore[arg-type]


def test_a_batch_replayed_under_a_new_position_stores_nothing_twice(settings, store) -> None:
    cid = str(uuid.uuid4())
    batch = [
        _event(CustomerRegistered(customer_id=cid, first_interaction_id="i", at=T0)),
        _linked(cid, T0),
        _attributed(cid, T0),
        _attributed(cid, T0 + timedelta(hours=1)),
    ]
    store.write(rows_for(batch), [Tracking(POSITION, 3)])
    first = _rows(settings.dsn)
    store.write(rows_for(batch), [Tracking("timeline:test:new-topic-id:0", 3)])
    again = _rows(settings.dsn)
    assert len(first["timeline"]) == 2 and len(first["customers"]) == 1
    assert {k: v for k, v in again.items() if k != "tracking"} == {
        k: v for k, v in first.items() if k != "tracking"
    }


def test_a_position_that_does_not_move_forward_fails_the_batch_and_writes_none_of_it(
    settings, store
) -> None:
    cid = str(uuid.uuid4())
    store.write(rows_for([_attributed(cid, T0)]), [Tracking(POSITION, 10)])
    before = _rows(settings.dsn)
    with pytest.raises(IntegrityError):
        store.write(rows_for([_attributed(str(uuid.uuid4()), T0)]), [Tracking(POSITION, 10)])
    assert _rows(settings.dsn) == before
    # The connection and its staging tables are fine for the next batch.
    store.write(rows_for([_attributed(cid, T0 + timedelta(minutes=1))]), [Tracking(POSITION, 11)])
    assert len(_rows(settings.dsn)["timeline"]) == 2


def test_every_position_of_a_batch_is_recorded(settings, store) -> None:
    trackings = [Tracking(f"timeline:test:topic-id:{p}", 5 + p) for p in range(4)]
    store.write(rows_for([_attributed(str(uuid.uuid4()), T0)]), trackings)
    assert _rows(settings.dsn)["tracking"] == [(t.application_name, t.notification_id) for t in trackings]


def test_a_failed_batch_leaves_the_staging_tables_empty_for_the_next_one(settings, store) -> None:
    cid = str(uuid.uuid4())
    with pytest.raises(Exception):  # noqa: B017 - whatever psycopg calls a NUL in text
        store.write(rows_for([_attributed(cid, T0, body="a\x00b")]), [Tracking(POSITION, 1)])
    store.write(rows_for([_attributed(cid, T0)]), [Tracking(POSITION, 1)])
    rows = _rows(settings.dsn)
    assert [r[2] for r in rows["timeline"]] == ["Где мой заказ?"]
    assert rows["tracking"] == [(POSITION, 1)]


def test_the_latest_name_wins_whatever_order_the_batches_arrive_in(settings, store) -> None:
    cid = str(uuid.uuid4())
    store.write(rows_for([_attributed(cid, T0 + timedelta(hours=2), name="Ирина Петрова")]), [])
    store.write(rows_for([_attributed(cid, T0 + timedelta(hours=1), name="Ирина Сидорова")]), [])
    assert _rows(settings.dsn)["customers"][0][1:3] == ("Ирина Петрова", T0 + timedelta(hours=2))
    # The same name seen later moves its time, so an older rename cannot win afterwards.
    store.write(rows_for([_attributed(cid, T0 + timedelta(hours=5), name="Ирина Петрова")]), [])
    store.write(rows_for([_attributed(cid, T0 + timedelta(hours=4), name="Ирина Сидорова")]), [])
    customer = _rows(settings.dsn)["customers"][0]
    assert customer[1:3] == ("Ирина Петрова", T0 + timedelta(hours=5))
    store.write(rows_for([_attributed(cid, T0 + timedelta(hours=6), name="Pyotr Ivanov")]), [])
    customer = _rows(settings.dsn)["customers"][0]
    assert customer[1:3] == ("Pyotr Ivanov", T0 + timedelta(hours=6))
    assert customer[4] == latin("Pyotr Ivanov")


def test_of_two_names_at_the_same_time_the_later_event_wins(settings, store) -> None:
    cid = str(uuid.uuid4())
    store.write(rows_for([_attributed(cid, T0, name="Анна"), _attributed(cid, T0, name="Мария")]), [])
    assert _rows(settings.dsn)["customers"][0][1] == "Мария"
    store.write(rows_for([_attributed(cid, T0, name="Ольга")]), [])
    assert _rows(settings.dsn)["customers"][0][1] == "Ольга"


def test_registration_only_ever_moves_earlier(settings, store) -> None:
    cid = str(uuid.uuid4())
    store.write(rows_for([_attributed(cid, T0 + timedelta(days=1))]), [])
    store.write(rows_for([_event(CustomerRegistered(customer_id=cid, first_interaction_id="i",
                                                    at=T0 + timedelta(days=2)))]), [])
    assert _rows(settings.dsn)["customers"][0][3] == T0 + timedelta(days=1)
    store.write(rows_for([_event(CustomerRegistered(customer_id=cid, first_interaction_id="i", at=T0))]), [])
    assert _rows(settings.dsn)["customers"][0][3] == T0


def test_identifiers_keep_their_first_and_last_sighting_across_batches(settings, store) -> None:
    cid = str(uuid.uuid4())
    # Seen before it is linked: a sighting alone creates no identifier.
    store.write(rows_for([_attributed(cid, T0 + timedelta(hours=3))]), [])
    assert _rows(settings.dsn)["identifiers"] == []
    store.write(rows_for([_linked(cid, T0 + timedelta(hours=2)), _attributed(cid, T0 + timedelta(hours=4))]), [])
    store.write(rows_for([_linked(cid, T0 + timedelta(hours=1))]), [])
    store.write(rows_for([_attributed(cid, T0 + timedelta(hours=5)), _attributed(cid, T0)]), [])
    (row,) = _rows(settings.dsn)["identifiers"]
    assert row == (cid, "phone", "+79123456789", True, "call", T0 + timedelta(hours=1), T0 + timedelta(hours=5))


def test_times_with_offsets_postgresql_cannot_read_as_text_are_stored_as_the_same_instant(
    settings, store
) -> None:
    """RFC 3339 allows +21:07; timestamptz text input stops at +-15:59, and COPY sends text."""
    cid = str(uuid.uuid4())
    far_east = timezone(timedelta(hours=21, minutes=7))
    at = datetime(2026, 5, 1, 23, 30, tzinfo=far_east)
    store.write(rows_for([
        _event(CustomerRegistered(customer_id=cid, first_interaction_id="i", at=at)),
        _linked(cid, at),
        _attributed(cid, at.astimezone(timezone(timedelta(hours=-23, minutes=-59)))),
    ]), [Tracking(POSITION, 1)])
    rows = _rows(settings.dsn)
    assert len(rows["timeline"]) == 1
    assert rows["customers"][0][2:4] == (at, at)
    assert rows["identifiers"][0][5:] == (at, at)
    with psycopg.connect(settings.dsn) as conn:
        assert conn.execute("SELECT occurred_at FROM timeline").fetchone()[0] == at


def _customers_log(groups: int) -> list[tuple[bytes, bytes]]:
    """customers.v1 as the relay keys it, with merges whose two sides sit on different partitions.

    Each group: four customers with their registrations, links and interactions, then
    b -> a, c -> a and a -> d merged (a merged survivor: roots must end at d wherever each
    merge was applied first), each merge keyed by its merged customer.
    """
    from events.envelope import serialise
    from events.identity import CustomerMerged

    def record(key: str, payload: BaseModel, sequence: int) -> tuple[bytes, bytes]:
        return key.encode(), serialise(payload, id=str(uuid.uuid4()), source="test", time=T0,
                                       subject=key, sequence=sequence)

    log: list[tuple[bytes, bytes]] = []
    sequence = 0
    for group in range(groups):
        ids = [str(uuid.uuid4()) for _ in range(4)]
        for n, cid in enumerate(ids):
            phone = f"+7912{group:04d}{n:03d}"
            at = T0 + timedelta(minutes=group * 10 + n)
            for payload in (
                CustomerRegistered(customer_id=cid, first_interaction_id="i", at=at),
                _linked(cid, at, phone)[1],
                _attributed(cid, at + timedelta(minutes=1), name=f"Клиент {group}-{n}", phone=phone)[1],
            ):
                sequence += 1
                log.append(record(cid, payload, sequence))
        a, b, c, d = ids
        for merged, survivor in ((b, a), (c, a), (a, d)):
            sequence += 1
            log.append(record(merged, CustomerMerged(survivor_id=survivor, merged_id=merged, interaction_id="i",
                                                     keys=["phone:+7"], at=T0 + timedelta(hours=1)), sequence))
    return log


def _build(settings, shares: int) -> dict[str, list[tuple[Any, ...]]]:
    """Rebuild the read models from offset zero with ``shares`` runners, as many processes would."""
    import threading
    import time

    from services.projections.runner import Runner
    from services.projections.timeline.worker import WORKER, TimelineProjection

    with psycopg.connect(settings.dsn) as conn:
        conn.execute("TRUNCATE customers, customer_identifiers, timeline, customer_history")
        conn.execute("DELETE FROM tracking WHERE application_name LIKE 'timeline:%'")
    datastore = db.datastore(settings.dsn, pool_size=shares)
    positions = Positions(datastore)
    # Small batches: many transactions of the two runners interleave.
    runners = [Runner(settings, WORKER, TimelineProjection(TimelineStore(datastore, positions), 7), positions,
                      share=(index, shares)) for index in range(shares)]
    threads = [threading.Thread(target=r.run, daemon=True) for r in runners]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 60
        while sum(r.processed for r in runners) < len(_LOG) and time.monotonic() < deadline:
            assert all(t.is_alive() for t in threads), "a runner stopped"
            time.sleep(0.05)
    finally:
        for runner in runners:
            runner.stopping.set()
        for thread in threads:
            thread.join(30)
        datastore.close()
    assert sum(r.processed for r in runners) == len(_LOG), "each record applied by exactly one share"
    queries = {
        "customers": "SELECT id::text, name, name_at, registered_at, merged_into::text,"
                     " coalesce(root_id, id)::text FROM customers ORDER BY 1",
        "identifiers": "SELECT customer_id::text, kind, value, first_seen, last_seen"
                       " FROM customer_identifiers ORDER BY 1, 2, 3",
        "timeline": "SELECT interaction_id::text, customer_id::text, seq FROM timeline ORDER BY 1",
        "history": "SELECT event_id::text, customer_id::text, kind FROM customer_history ORDER BY 1",
        "positions": "SELECT application_name, notification_id FROM tracking"
                     " WHERE application_name LIKE 'timeline:%' ORDER BY 1",
    }
    with psycopg.connect(settings.dsn) as conn:
        return {name: conn.execute(sql).fetchall() for name, sql in queries.items()}  # type: ignore[arg-type]


_LOG = _customers_log(25)


def test_two_processes_sharing_the_partitions_build_what_one_builds_merges_across_partitions_included(
    settings,
) -> None:
    from kartoteka import kafka

    producer = kafka.producer(settings)
    for key, value in _LOG:
        producer.send(settings.topic("customers.v1"), key=key, value=value)
    producer.flush(30)
    producer.close()
    one = _build(settings, 1)
    roots = {row[0]: row[5] for row in one["customers"]}
    assert len(set(roots.values())) == 25, "each group ends as one card"
    assert len({key for key, _ in _LOG}) > 4, "the log spreads over every partition"
    for _ in range(2):  # the two runners' batches interleave differently each time
        assert _build(settings, 2) == one
