"""A held link's conflict in plain words, with both customers' values as they were written."""

from __future__ import annotations

from datetime import UTC, datetime

from services.projections.duplicates.held import first_name_as_written, held_evidence
from services.projections.duplicates.observe import latest

GUARD_BIRTH = "shared identifier, but different birth dates (1984-03-02, 1991-07-15): held for review"
GUARD_NAMES = "shared identifier, but clearly different first names (olga, petr): held for review"


def test_a_shared_phone_with_two_birth_dates_says_so_with_each_customers_date_under_it() -> None:
    item = held_evidence("phone:+79161234567", GUARD_BIRTH, {"birth_date": "1991-07-15"},
                         {"birth_date": "1984-03-02", "name": "Иван Петров"})
    assert item["values"] == ["phone:+79161234567", "same phone, but birth dates differ: 1991-07-15 vs 1984-03-02"]
    assert (item["identifier"], item["conflict"], item["conflict_values"]) == (
        "phone", "birth_date", ["1991-07-15", "1984-03-02"])


def test_a_shared_mailbox_with_two_first_names_quotes_them_as_written() -> None:
    item = held_evidence("email:family@mail.ru", GUARD_NAMES, {"name": "Петрова Ольга Ивановна"},
                         {"name": "Пётр Петров"})
    assert item["values"][1] == "shared mailbox, but clearly different first names: Ольга vs Пётр"
    assert item["conflict_values"] == ["Ольга", "Пётр"]


def test_a_conflict_the_finder_cannot_quote_keeps_the_guards_own_words() -> None:
    split = "these customers were split apart; merge them by hand if they are one person"
    assert held_evidence("phone:+7916", split, {}, {})["values"] == ["phone:+7916", split]
    missing = held_evidence("phone:+7916", GUARD_BIRTH, {"birth_date": "1991-07-15"}, {})
    assert missing["values"][1] == GUARD_BIRTH and "conflict" not in missing
    since = held_evidence("phone:+7916", GUARD_NAMES, {"name": "Оля Петрова"}, {"name": "Ольга Петрова"})
    assert since["values"][1] == GUARD_NAMES, "the latest names no longer differ: no contradiction in words"


def test_the_first_name_is_found_in_any_order_and_spelling() -> None:
    assert first_name_as_written("Иванов Саша") == "Саша"
    assert first_name_as_written("Sasha Ivanov") == "Sasha"


def test_a_profiles_value_wins_over_a_later_interactions() -> None:
    early, late = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    rows = [("birth_date", "1980-01-01", "profile", early), ("birth_date", "1990-01-01", "web_form", late),
            ("name", "Ольга", "call", early), ("name", "Оля", "chat", late)]
    assert latest(rows) == {"birth_date": "1980-01-01", "name": "Оля"}
