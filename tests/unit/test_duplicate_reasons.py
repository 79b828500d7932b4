"""The review queue's plain words for a proposal's evidence."""

from __future__ import annotations

from services.api.queries.duplicate_reasons import reasons


def test_agreeing_attributes_read_as_words_strongest_first_and_missing_ones_are_left_out() -> None:
    evidence = [{"attribute": "phone", "values": [["9120000001"], ["9120000007"]], "weight": 9.5, "level": 1},
                {"attribute": "birth_date", "values": ["1980-01-02", "1980-01-02"], "weight": 12.1, "level": 5},
                {"attribute": "email", "values": [None, None], "weight": 0.0, "level": -1},
                {"attribute": "name", "values": ["irina petrova", "petrova irina"], "weight": 8.0, "level": 5},
                {"attribute": "company", "values": ["romashka", "romashka"], "weight": -0.5, "level": 3}]
    assert reasons(evidence) == [("same_birth_date", 12.1), ("phone_typo", 9.5), ("name_swapped", 8.0)]


def test_a_disagreement_and_a_held_link_are_said_too() -> None:
    evidence = [{"attribute": "birth_date", "values": ["1955-03-01", "1984-11-20"], "weight": -7.0, "level": 0},
                {"attribute": "held", "values": ["phone:+74951112233", "different birth dates"], "weight": 0.0,
                 "level": -1}]
    assert [key for key, _ in reasons(evidence)] == ["held_link", "different_birth_date"]
