"""Pure parts of the audit: trail records, employee and alert rows, the departed-employee cache."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from events.audit import chain
from events.audit.records import alert_event_id
from events.audit.trail import (
    RECORD_FIELDS,
    access_record,
    chain_alert,
    checkpoint_key,
    stored_record,
)
from events.catalog import AccessRecorded, AlertRaised, EmployeeStatusChanged
from kartoteka.auth import Principal, Role
from kartoteka.http import ApiError, EmployeeStatuses
from services.projections.alerts.store import alert_row
from services.projections.employees.store import employee_row

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def access(**changes) -> AccessRecorded:
    values = {"employee_id": "emp-1", "role": "agent", "action": "customer.search",
              "customer_ids": ["c-1"], "at": NOW, "request_id": "r-1", "route": "/v1/customers",
              "query": "Петрова"}
    return AccessRecorded(**{**values, **changes})


def test_a_trail_record_is_what_postgres_hands_back_so_it_hashes_the_same() -> None:
    event_id = str(uuid.uuid4()).upper()
    record = access_record(event_id, access(query="a\x00b", at=NOW.replace(tzinfo=None)), 2, 17, NOW)
    assert set(record) == set(RECORD_FIELDS)
    assert record["id"] == event_id.lower()
    assert record["query"] == "a\ufffdb"  # text columns cannot hold NUL
    assert record["at"] == NOW  # naive read as UTC, as timestamptz would store it
    as_stored = {**record, "id": uuid.UUID(record["id"])}
    assert chain.link(chain.GENESIS, stored_record(as_stored)) == chain.link(chain.GENESIS, record)


def test_the_checkpoint_key_is_derived_from_the_secret_and_is_not_the_secret() -> None:
    key = checkpoint_key("s3cret")
    assert key == checkpoint_key("s3cret") != checkpoint_key("other")
    assert b"s3cret" not in key and len(key) == 32


def test_a_chain_alert_has_one_id_per_position_and_reason_however_often_raised() -> None:
    first = chain_alert(5, "seq 5 missing", NOW, "verify")
    again = chain_alert(5, "seq 5 missing", NOW + timedelta(hours=1), "audit")
    assert first.id == again.id != chain_alert(6, "seq 6 missing", NOW, "verify").id
    assert (first.kind, first.severity, first.employee_id) == ("chain_integrity", "critical", "system")
    assert alert_event_id(first) == alert_event_id(again)


def test_an_escalated_alert_is_a_new_event_but_the_same_alert() -> None:
    low = AlertRaised(id=str(uuid.uuid4()), employee_id="e", kind="breadth", severity="low",
                      score=0.6, window_start=NOW, window_end=NOW, raised_at=NOW)
    high = low.model_copy(update={"severity": "high", "score": 0.9})
    assert alert_event_id(low) != alert_event_id(high)
    assert (alert_row(low)["severity_rank"], alert_row(high)["severity_rank"]) == (0, 2)


def test_leaving_without_notice_counts_as_notice_from_the_effective_time() -> None:
    change = EmployeeStatusChanged(employee_id="e", status="left", effective_at=NOW,
                                   changed_by="adm", at=NOW)
    row = employee_row(change)
    assert (row["notice_given_at"], row["team"], row["work_start"]) == (NOW, None, None)
    back = employee_row(change.model_copy(update={"status": "active", "work_hours": (9, 18)}))
    assert (back["notice_given_at"], back["work_start"], back["work_end"]) == (None, 9, 18)


def statuses(table: dict) -> EmployeeStatuses:
    cache = EmployeeStatuses(lambda: "unused")
    cache._table, cache._loaded_at = table, time.monotonic()  # as loaded from the database
    return cache


def test_the_latest_change_wins_between_the_table_and_this_process_notes() -> None:
    cache = statuses({"gone": ("left", NOW, NOW), "back": ("left", NOW, NOW)})
    later = NOW + timedelta(minutes=1)
    assert cache.has_left("gone", later) and not cache.has_left("stays", later)
    cache.note("back", "active", later, later)  # reinstated here, not projected yet
    assert not cache.has_left("back", later)
    cache.note("gone", "active", NOW - timedelta(days=1), NOW - timedelta(days=1))  # stale note
    assert cache.has_left("gone", later)


def test_a_departure_counts_from_its_effective_time_only() -> None:
    cache = statuses({})
    cache.note("soon", "left", NOW + timedelta(days=2), NOW)
    assert not cache.has_left("soon", NOW)
    assert cache.has_left("soon", NOW + timedelta(days=2))


def test_a_note_expires_once_the_projection_has_had_time_to_catch_up() -> None:
    cache = statuses({})
    cache.note_ttl_s = 0.0
    cache.note("e", "left", NOW, NOW)
    time.sleep(0.01)
    assert not cache.has_left("e", NOW + timedelta(seconds=1))


def test_a_departure_noted_by_one_worker_process_is_refused_by_the_others_at_once(tmp_path) -> None:
    shared = tmp_path / "run" / "employee-status-notes.jsonl"
    one, other = (EmployeeStatuses(lambda: "unused", shared=shared) for _ in range(2))
    for cache in (one, other):
        cache._table, cache._loaded_at = {}, time.monotonic()
    one.note("e", "left", NOW, NOW)
    with pytest.raises(ApiError) as refused:
        asyncio.run(other(Principal("e", Role.agent)))
    assert refused.value.status == 403
    other.note("e", "active", NOW, NOW + timedelta(minutes=1))  # reinstated, by the other one
    asyncio.run(one(Principal("e", Role.agent)))


def test_a_note_still_being_written_is_read_once_it_is_whole(tmp_path) -> None:
    shared = tmp_path / "notes.jsonl"
    writer, reader = (EmployeeStatuses(lambda: "unused", shared=shared) for _ in range(2))
    reader._table, reader._loaded_at = {}, time.monotonic()
    writer.note("f", "left", NOW, NOW)
    line = shared.read_bytes()
    shared.write_bytes(line[:20])
    asyncio.run(reader(Principal("f", Role.agent)))  # half a line: nothing to apply yet
    shared.write_bytes(line)
    with pytest.raises(ApiError):
        asyncio.run(reader(Principal("f", Role.agent)))
