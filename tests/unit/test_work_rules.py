"""Pure rules of the agent's work: SLA due times, request transitions, birthday windows, events."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from events.envelope import decode, encode, wrap
from events.ids import work_id
from events.work import NoteAdded, ProfileChanged, RequestOpened
from events.work_rules import (
    DEFAULT_OUTCOMES,
    TRANSITIONS,
    allowed,
    due_at,
    parse_outcomes,
    parse_sla_hours,
)
from services.api.birthdays import birthday_key, keys_within, next_birthday

OPENED = datetime(2026, 12, 31, 22, 0, tzinfo=UTC)


@pytest.mark.parametrize(("priority", "hours"), [("urgent", 4), ("high", 8), ("normal", 24), ("low", 72)])
def test_due_time_follows_the_default_sla_of_each_priority(priority: str, hours: int) -> None:
    assert due_at(OPENED, priority, None) == OPENED + timedelta(hours=hours)  # type: ignore[arg-type]


def test_configured_sla_hours_replace_the_default_for_the_named_priorities_only() -> None:
    hours = parse_sla_hours("urgent=1, low=0.5")
    assert due_at(OPENED, "urgent", hours) == OPENED + timedelta(hours=1)
    assert due_at(OPENED, "low", hours) == OPENED + timedelta(minutes=30)
    assert due_at(OPENED, "normal", hours) == OPENED + timedelta(hours=24)


@pytest.mark.parametrize("spec", ["critical=1", "urgent=0", "urgent=-2", "urgent=soon"])
def test_bad_sla_hours_are_refused(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_sla_hours(spec)


def test_outcomes_default_to_the_issue_list_and_can_be_configured() -> None:
    assert parse_outcomes("") == DEFAULT_OUTCOMES
    assert DEFAULT_OUTCOMES == ("resolved", "callback", "escalated", "no_answer", "sale", "complaint")
    assert parse_outcomes("sale, refund,sale") == ("sale", "refund")


@pytest.mark.parametrize(("current", "new"), [
    ("open", "pending"), ("open", "resolved"), ("open", "closed"), ("pending", "open"),
    ("pending", "resolved"), ("resolved", "open"), ("resolved", "closed"),
])
def test_allowed_transitions(current: str, new: str) -> None:
    assert allowed(current, new)  # type: ignore[arg-type]


@pytest.mark.parametrize(("current", "new"), [
    ("open", "open"), ("closed", "open"), ("closed", "resolved"), ("resolved", "pending"),
    ("resolved", "resolved"), ("closed", "closed"),
])
def test_refused_transitions(current: str, new: str) -> None:
    assert not allowed(current, new)  # type: ignore[arg-type]


def test_closed_is_final_and_every_status_has_its_rule() -> None:
    assert set(TRANSITIONS) == {"open", "pending", "resolved", "closed"}
    assert TRANSITIONS["closed"] == frozenset()


def test_birthday_window_counts_today_and_the_last_day() -> None:
    assert keys_within(date(2026, 6, 10), 0) == [610]
    assert keys_within(date(2026, 6, 10), 2) == [610, 611, 612]


def test_birthday_window_crosses_the_year_end() -> None:
    assert keys_within(date(2026, 12, 30), 3) == [1230, 1231, 101, 102]


def test_29_february_is_celebrated_on_28_february_in_a_common_year() -> None:
    assert 229 in keys_within(date(2027, 2, 27), 1)
    assert keys_within(date(2027, 3, 1), 5).count(229) == 0
    assert next_birthday(date(1992, 2, 29), date(2027, 2, 1)) == date(2027, 2, 28)


def test_29_february_is_its_own_day_in_a_leap_year() -> None:
    keys = keys_within(date(2028, 2, 27), 2)
    assert keys == [227, 228, 229]
    assert 229 not in keys_within(date(2028, 2, 27), 1)
    assert next_birthday(date(1992, 2, 29), date(2028, 2, 1)) == date(2028, 2, 29)


def test_next_birthday_passed_this_year_is_next_year() -> None:
    assert next_birthday(date(1980, 1, 5), date(2026, 12, 30)) == date(2027, 1, 5)
    assert next_birthday(date(1980, 12, 30), date(2026, 12, 30)) == date(2026, 12, 30)
    assert birthday_key(date(1980, 12, 30)) == 1230


def test_a_whole_year_window_lists_every_day_once() -> None:
    keys = keys_within(date(2027, 1, 1), 366)
    assert len(keys) == len(set(keys)) == 366  # 365 days of 2027 and 29 February


def test_birthday_window_refuses_more_than_a_year() -> None:
    with pytest.raises(ValueError):
        keys_within(date(2026, 1, 1), 367)


def test_retried_work_requests_map_to_the_same_id() -> None:
    assert work_id("note", "emp-1", "k-1") == work_id("note", "emp-1", "k-1")
    assert work_id("note", "emp-1", "k-1") != work_id("note", "emp-2", "k-1")
    assert work_id("note", "emp-1", "k-1") != work_id("task", "emp-1", "k-1")


def test_work_events_round_trip_through_the_envelope() -> None:
    event = RequestOpened(request_id="r", customer_id="c", subject="Возврат", priority="high",
                          assignee="emp-1", opened_at=OPENED, due_at=due_at(OPENED, "high"), by="emp-1")
    _, back = decode(encode(wrap(event, id="r", source="test", time=OPENED, subject="c")))
    assert back == event


def test_work_events_refuse_unknown_fields_nul_and_empty_profile_changes() -> None:
    with pytest.raises(ValidationError):
        NoteAdded(note_id="n", customer_id="c", text="x", by="e", at=OPENED, mood="good")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        NoteAdded(note_id="n", customer_id="c", text="a\x00b", by="e", at=OPENED)
    with pytest.raises(ValidationError):
        ProfileChanged(change_id="p", customer_id="c", fields=[], by="e", at=OPENED)
