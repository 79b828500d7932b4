"""The business reason a customer's own call or chat gives: a read shortly after it."""

from datetime import UTC, datetime, timedelta

from services.projections.detect.context import LED_BY_CONTACT, led_by_contact

CALL = datetime(2026, 3, 2, 22, 40, tzinfo=UTC)


def test_a_search_within_minutes_after_the_customers_own_call_has_a_reason() -> None:
    reads = [(("caller", "namesake-1", "namesake-2"), CALL + timedelta(minutes=3))]
    # Only the caller, not the other names the same search revealed.
    assert led_by_contact([("caller", CALL)], reads) == {"caller"}


def test_a_read_long_after_the_call_or_before_it_has_none() -> None:
    late = [(("caller",), CALL + LED_BY_CONTACT + timedelta(seconds=1))]
    early = [(("caller",), CALL - timedelta(minutes=1))]
    assert led_by_contact([("caller", CALL)], late) == set()
    assert led_by_contact([("caller", CALL)], early) == set()


def test_the_boundary_and_any_of_several_contacts_counts() -> None:
    contacts = [("caller", CALL), ("caller", CALL + timedelta(hours=5))]
    reads = [(("caller",), CALL + timedelta(hours=5) + LED_BY_CONTACT)]
    assert led_by_contact(contacts, reads) == {"caller"}


def test_another_customers_call_gives_no_reason() -> None:
    reads = [(("stranger",), CALL + timedelta(minutes=1))]
    assert led_by_contact([("caller", CALL)], reads) == set()
