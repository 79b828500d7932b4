"""The work projection's pure apply: which statements each event writes, with which values."""

from __future__ import annotations

from datetime import UTC, date, datetime

from events.work import (
    EmployeeHandedOver,
    NoteAdded,
    ProfileChanged,
    RequestStatusChanged,
    TaskDone,
)
from services.projections.work.apply import (
    HANDOVER,
    INSERT_NOTE,
    REQUEST_STATUS,
    TASK_DONE,
    statements_for,
)

AT = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)


def test_a_profile_change_writes_only_the_fields_it_names() -> None:
    change = ProfileChanged(change_id="p", customer_id="c", fields=["birth_date", "tags"],
                            birth_date=date(1990, 2, 28), tags=["vip"], by="emp-1", at=AT)
    [(sql, params)] = statements_for(change, 7)
    update = sql.split("DO UPDATE SET", 1)[1]
    assert "birth_date = excluded.birth_date" in update and "tags = coalesce(excluded.tags" in update
    assert "name = " not in update and "owner = " not in update and "company = " not in update
    assert params["birth_date"] == date(1990, 2, 28) and params["tags"] == ["vip"]


def test_a_status_change_applies_only_from_statuses_that_allow_it() -> None:
    change = RequestStatusChanged(change_id="s", request_id="r", customer_id="c", status="open", by="e", at=AT)
    [(sql, params)] = statements_for(change, 1)
    assert sql == REQUEST_STATUS
    assert params["from"] == ["pending", "resolved"]
    closing = RequestStatusChanged(change_id="s2", request_id="r", customer_id="c", status="closed", by="e", at=AT)
    assert statements_for(closing, 2)[0][1]["from"] == ["open", "pending", "resolved"]


def test_a_note_takes_its_timeline_order_from_the_work_log_position() -> None:
    note = NoteAdded(note_id="n", customer_id="c", text="Перезвонить", outcome="callback", by="emp-1", at=AT)
    [(sql, params)] = statements_for(note, 42)
    assert sql == INSERT_NOTE and params["seq"] == 42 and params["outcome"] == "callback"


def test_task_done_and_handover_are_single_guarded_statements() -> None:
    [(done, _)] = statements_for(TaskDone(task_id="t", customer_id="c", by="e", at=AT), 1)
    assert done == TASK_DONE and "status = 'open'" in done
    handover = EmployeeHandedOver(handover_id="h", from_employee="a", to_employee="b", by="s", at=AT)
    [(sql, params)] = statements_for(handover, 2)
    assert sql == HANDOVER and (params["from_employee"], params["to_employee"]) == ("a", "b")
